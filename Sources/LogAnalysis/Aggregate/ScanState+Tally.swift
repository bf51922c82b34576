import CSimdJSON

extension ScanState {
    /// Adds what one `cs_tally_lines` call counted in the scanner; `buffer` is the call's buffer
    /// (the first line of a new group is checked for secrets there), `startOffset` its offset in the file.
    func absorb(_ t: OpaquePointer, buffer: UnsafeRawPointer, startOffset: Int) {
        var totals = cs_tally_totals()
        cs_tally_totals_of(t, &totals)
        guard totals.lines > 0 else { return }
        lines += Int(totals.lines)
        fileLines += Int(totals.lines)
        matched += Int(totals.matched)
        filteredOut += Int(totals.filtered)
        guard totals.matched > 0 else { return }
        if totals.min_time < minTime { minTime = totals.min_time }
        if totals.max_time > maxTime { maxTime = totals.max_time }
        let levels = cs_tally_levels(t)!
        for b in 0..<256 where levels[b] != 0 { levelCounts[LogLevel(pino: b).slot] += Int(levels[b]) }
        var n: Int32 = 0
        if let runs = cs_tally_runs(t, &n) {
            for i in 0..<Int(n) { windows.add(runs[i].time_ms, count: Int(runs[i].count), errors: Int(runs[i].errors)) }
        }
        var g = cs_group_count()
        for i in 0..<cs_tally_group_count(t) {
            cs_tally_group(t, i, &g)
            // The scanner checked the first line for secrets itself (with a masker it always does).
            let line = UnsafeRawBufferPointer(start: buffer + Int(g.first_line_off), count: Int(g.first_line_len))
            countGroup(UnsafeRawBufferPointer(start: g.value, count: Int(g.value_len)), count: Int(g.count), errors: Int(g.errors),
                       latencySum: g.latency_sum, latencyCount: Int(g.latency_count),
                       lineNeedsMasking: g.needs_masking < 0 ? masking.needsMasking(line) : g.needs_masking != 0)
        }
        var f = cs_fingerprint_count()
        for i in 0..<cs_tally_fingerprint_count(t) {
            cs_tally_fingerprint(t, i, &f)
            countFingerprints(f, order: (currentFile << Self.fileShift) | (startOffset + Int(f.line_off)))
        }
        if let other = cs_tally_other_latencies(t, &n) {
            for i in 0..<Int(n) { latency.add(other[i]) }
        }
    }

    /// Adds a fingerprint the scanner counted over several lines; `order` is its first line's.
    private func countFingerprints(_ f: cs_fingerprint_count, order: Int) {
        let example = { String(decoding: UnsafeRawBufferPointer(start: f.example, count: Int(f.example_len)), as: UTF8.self) }
        fingerprints.update(f.hash, make: {
            FingerprintEntry(text: String(decoding: UnsafeRawBufferPointer(start: f.text, count: Int(f.text_len)), as: UTF8.self),
                             count: 0, level: f.level, first: Int64.max, last: LineEvent.noTime, example: example(),
                             exampleOrder: order)
        }) { entry in
            entry.count += Int(f.count)
            if f.level > entry.level { entry.level = f.level }
            if f.first_ms < entry.first { entry.first = f.first_ms }
            if f.last_ms > entry.last { entry.last = f.last_ms }
            if order < entry.exampleOrder {
                entry.exampleOrder = order
                entry.example = example()
            }
        }
    }

    /// Adds the integer latencies a worker's tally counted over all its calls (once, at the end).
    func absorbLatencies(_ t: OpaquePointer) {
        guard let dense = cs_tally_dense_latencies(t) else { return }
        latency.add(integerCounts: dense, limit: Int(CS_DENSE_LATENCY))
    }
}
