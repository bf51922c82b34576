import Foundation
import Testing
@testable import Migrations

/// Where `MigrationFileReader` finds the first byte that is not UTF-8 SQL text.
struct FileEncodingTests {
    @Test(arguments: [
        ([UInt8]("SELECT 'é';\n".utf8), nil),
        ([UInt8]("SELECT 1;\r\n\tSELECT 2;\u{0C}\n".utf8), nil),
        ([UInt8]("SELECT 'caf".utf8) + [0xE9] + [UInt8]("';".utf8), 11),
        ([UInt8]("SELECT 1;".utf8) + [0], 9),
        ([0xEF, 0xBB, 0xBF] + [UInt8]("SELECT 1;".utf8), nil),     // a BOM is valid UTF-8
        ([0xC0, 0x80], 0),                                      // overlong NUL
        ([UInt8]("ab".utf8) + [0xED, 0xA0, 0x80], 2),           // UTF-16 surrogate
        ([UInt8]("ab".utf8) + [0xF4, 0x90, 0x80, 0x80], 2),     // above U+10FFFF
        ([UInt8]("ab".utf8) + [0xE2, 0x82], 2),                 // truncated at the end
        ([UInt8]("a".utf8) + [0x1B] + [UInt8]("[2J".utf8), 1),  // escape sequence
    ] as [([UInt8], Int?)])
    func firstBadByte(_ bytes: [UInt8], _ offset: Int?) {
        #expect(MigrationFileReader.firstProblem(bytes)?.offset == offset)
    }

    @Test func positionCountsLinesAndCharacters() {
        let bytes = [UInt8]("-- é\nSELECT 'ü".utf8) + [0xFF]
        #expect(MigrationFileReader.position(of: bytes.count - 1, in: bytes) == (2, 10))
    }
}
