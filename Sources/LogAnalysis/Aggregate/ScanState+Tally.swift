import CSimdJSON

extension ScanState {
    /// Adds what one `cs_tally_lines` call counted in the scanner; `buffer` is the call's buffer
    /// (the first line of a new group is checked for secrets there).
    func absorb(_ t: OpaquePointer, buffer: UnsafeRawPointer) {
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
            countGroup(UnsafeRawBufferPointer(start: g.value, count: Int(g.value_len)), count: Int(g.count), errors: Int(g.errors),
                       latencySum: g.latency_sum, latencyCount: Int(g.latency_count),
                       line: UnsafeRawBufferPointer(start: buffer + Int(g.first_line_off), count: Int(g.first_line_len)))
        }
        if let other = cs_tally_other_latencies(t, &n) {
            for i in 0..<Int(n) { latency.add(other[i]) }
        }
    }

    /// Adds the integer latencies a worker's tally counted over all its calls (once, at the end).
    func absorbLatencies(_ t: OpaquePointer) {
        guard let dense = cs_tally_dense_latencies(t) else { return }
        latency.add(integerCounts: dense, limit: Int(CS_DENSE_LATENCY))
    }
}
