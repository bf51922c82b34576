/// An entry of a capped table: counted, and mergeable across workers.
protocol CappedEntry {
    var count: Int { get }
    mutating func merge(_ other: Self)
}

/// A heavy-hitters table with bounded memory: exact while it holds fewer than `cap` keys;
/// when full, the less frequent half is dropped (`capped` is set and the survivors' counts
/// become lower bounds), so a flood of distinct keys cannot grow it.
struct CappedTable<Entry: CappedEntry> {
    private(set) var entries: [UInt64: Entry] = [:]
    let cap: Int
    private(set) var capped = false

    init(cap: Int) { self.cap = cap }

    var count: Int { entries.count }

    /// Updates the entry for `key`, creating it with `make` when absent.
    @inline(__always)
    mutating func update(_ key: UInt64, make: () -> Entry, _ body: (inout Entry) -> Void) {
        if let i = entries.index(forKey: key) {
            body(&entries.values[i])
            return
        }
        if entries.count >= cap { prune() }
        var e = make()
        body(&e)
        entries[key] = e
    }

    /// Keeps the most frequent half: entries above the count at rank cap/2, then ties at
    /// that count until half the cap is reached.
    mutating func prune() {
        var counts: [Int] = []
        counts.reserveCapacity(entries.count)
        for e in entries.values { counts.append(e.count) }
        counts.sort(by: >)
        let keep = cap / 2
        guard counts.count > keep else { return }
        let threshold = counts[keep]
        var kept: [UInt64: Entry] = [:]
        kept.reserveCapacity(keep)
        for (k, v) in entries where v.count > threshold { kept[k] = v }
        for (k, v) in entries where v.count == threshold && kept.count < keep { kept[k] = v }
        entries = kept
        capped = true
    }

    mutating func merge(_ other: CappedTable<Entry>) {
        capped = capped || other.capped
        for (k, v) in other.entries {
            if let i = entries.index(forKey: k) { entries.values[i].merge(v) } else { entries[k] = v }
        }
        while entries.count > cap { prune() }
    }
}
