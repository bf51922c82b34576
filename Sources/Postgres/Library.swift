import CLibPQ

/// libpq is loaded on first use (Sources/CLibPQ), so a machine without it fails here, with the
/// package to install, instead of every verb failing in the dynamic loader before main.
enum PostgresLibrary {
    static func load() throws {
        guard clibpq_load() == 0 else {
            throw PostgresError(kind: .configuration, message: String(cString: clibpq_load_error()))
        }
    }
}
