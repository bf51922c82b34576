import CSimdJSON

/// The scanner's counters for one worker (`cs_tally`): lines that only need counting never cross
/// into Swift one by one. Not used with `--grep`, whose regex runs here.
final class LineTally {
    let pointer: OpaquePointer
    /// Kept alive for the scanner, which checks error lines for secrets with it.
    private let check: MaskCheck

    init(json: JSONLines, state: ScanState) {
        check = state.masking.check
        var config = cs_tally_config()
        config.from_ms = state.filter.from ?? Int64.min
        config.to_ms = state.filter.to ?? Int64.max
        config.filters_time = state.filter.filtersTime ? 1 : 0
        config.min_level = state.filter.minLevel
        config.record_level = state.fingerprintLevel
        config.group_index = Int32(json.groupIndex)
        config.latency_index = Int32(json.latencyIndex)
        config.masker = check.pointer
        pointer = cs_tally_new(&config)!
    }

    deinit { cs_tally_free(pointer) }
}

extension JSONLines {
    /// Like `scan`, with the plain lines (and error lines needing no masking) counted by the scanner
    /// into `tally` and only the others (masked, unparsed) handed to `state` line by line.
    func tally(_ buffer: UnsafeRawBufferPointer, startOffset: Int, maxLine: Int, tally: LineTally, state: ScanState) {
        guard let base = buffer.baseAddress?.assumingMemoryBound(to: CChar.self) else { return }
        let raw = UnsafeRawPointer(base)
        var pos = 0
        while pos < buffer.count {
            let n = Int(cs_tally_lines(parser, tally.pointer, base, buffer.count, &pos, records, Self.batch, maxLine,
                                       state.windows.widthMs))
            state.absorb(tally.pointer, buffer: raw, startOffset: startOffset)
            for k in 0..<n {
                deliver(records[k], raw, startOffset: startOffset, parsed: { state.consume(&$0) },
                        unparsed: { state.recordUnparsed($0, offset: $1, reason: $2) })
            }
        }
    }

    /// `tally` over a mapped segment: the lines handed back are read from a shadow copy, never from the
    /// mapping. Returns nil, or the offset in `buffer` where a truncation of the file stopped the scan
    /// (every line before it is counted).
    func tallyMapped(_ buffer: UnsafeRawBufferPointer, startOffset: Int, maxLine: Int, tally: LineTally,
                     state: ScanState) -> Int? {
        guard let base = buffer.baseAddress?.assumingMemoryBound(to: CChar.self) else { return nil }
        let shadow = self.shadow(for: buffer.count)
        var pos = 0
        while pos < buffer.count {
            var faulted: Int32 = 0
            let n = Int(cs_tally_mapped(parser, tally.pointer, base, buffer.count, &pos, records, Self.batch, maxLine,
                                        state.windows.widthMs, shadow.baseAddress, shadow.count, &faulted))
            state.absorb(tally.pointer, buffer: UnsafeRawPointer(shadow.baseAddress!), startOffset: startOffset)
            for k in 0..<n {
                deliver(records[k], UnsafeRawPointer(shadow.baseAddress!), startOffset: startOffset, parsed: { state.consume(&$0) },
                        unparsed: { state.recordUnparsed($0, offset: $1, reason: $2) })
            }
            if faulted != 0 { return pos }
        }
        return nil
    }
}
