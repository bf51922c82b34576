import Testing
@testable import Migrations

@Suite struct ParserTests {
    @Test func splitsDollarQuotedFunctionsAndStrings() throws {
        let sql = """
            -- leading comment; not a statement
            CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$
            BEGIN
              -- a ; inside
              RETURN 1;
            END
            $body$;
            SELECT E'it\\'s; fine', 'a;b';
            /* outer /* nested ; */ still comment ; */ SELECT 2;
            CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2);
            """
        let script = try SQLParser.parse(sql, file: "x.sql")
        #expect(script.statements.map(\.kind) == ["CreateFunctionStmt", "SelectStmt", "SelectStmt", "RuleStmt"])
        #expect(script.statements[0].location.line == 2)
        #expect(script.statements[1].location == SourceLocation(file: "x.sql", line: 8, column: 1))
        #expect(script.statements[2].location.line == 9)
        #expect(script.statements[2].location.column == 44)
        #expect(script.statements[0].leadingComments.contains("leading comment"))
    }

    @Test func syntaxErrorsPointAtLineAndColumn() throws {
        let sql = "CREATE TABLE a (id int);\n\nCREATE TABLE b (\n  id int,\n  name txt oops\n);\n"
        do {
            _ = try SQLParser.parse(sql, file: "007_bad.sql")
            Issue.record("expected a syntax error")
        } catch let e as SQLSyntaxError {
            #expect(e.location.file == "007_bad.sql")
            #expect(e.location.line == 5)
            #expect(e.location.column == 12)
            #expect(e.message.contains("oops"))
        }
    }

    @Test func unicodeColumnsCountCharacters() throws {
        // The second statement's text starts with the newline after `;`: server positions count it.
        let sql = "SELECT 'é';\nSELECT 'ü', x"
        let script = try SQLParser.parse(sql, file: "u.sql")
        #expect(script.statements[1].location == SourceLocation(file: "u.sql", line: 2, column: 1))
        #expect(script.location(of: script.statements[1], serverPosition: 14) == SourceLocation(file: "u.sql", line: 2, column: 13))
    }

    @Test func effectsFromTheParseTree() throws {
        let script = try SQLParser.parse("""
            CREATE TABLE a (id bigint PRIMARY KEY, b_id bigint REFERENCES b(id));
            CREATE INDEX a_b ON a (b_id);
            ALTER TABLE c ADD COLUMN x text;
            CREATE FUNCTION s.f() RETURNS int LANGUAGE sql AS 'select 1';
            CREATE TABLE tmp (id int);
            DROP TABLE tmp;
            """, file: "e.sql")
        let e = SchemaEffects(script.statements)
        #expect(e.created.map(\.description) == ["table a", "index a_b", "column c.x", "function s.f"])
        #expect(e.referenced.map(\.description) == ["b", "c"])
        #expect(TransactionSafety.reason(try SQLParser.parse("CREATE INDEX CONCURRENTLY i ON a (b)", file: "x").statements[0]) != nil)
        #expect(TransactionSafety.reason(try SQLParser.parse("VACUUM a", file: "x").statements[0]) != nil)
        #expect(TransactionSafety.reason(try SQLParser.parse("CREATE INDEX i ON a (b)", file: "x").statements[0]) == nil)
    }

    @Test func sha256MatchesKnownVectors() {
        #expect(Checksum.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Checksum.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Checksum.hex(String(repeating: "a", count: 1000)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }
}
