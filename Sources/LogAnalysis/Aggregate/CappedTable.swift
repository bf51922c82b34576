/// An entry of a capped table: counted, and mergeable across workers.
protocol CappedEntry {
    var count: Int { get }
    mutating func merge(_ other: Self)
}

/// A heavy-hitters table with bounded memory: exact while it holds fewer than `cap` keys;
/// when full, the entries at or below the median count are dropped (`capped` is set and
/// the survivors' counts become lower bounds), so a flood of distinct keys cannot grow it.
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

    mutating func prune() {
        let counts = entries.values.map(\.count).sorted()
        guard !counts.isEmpty else { return }
        let median = counts[counts.count / 2]
        entries = entries.filter { $0.value.count > median }
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
