import Foundation

/// Runs work that recurses once per nesting level of its input (libpg_query's parse-tree output:
/// `SELECT 1+1+…` with 10k terms is 10k levels deep) on a thread with a large stack, and waits for it.
/// Steps and tests run on threads with small stacks (512 KB), where such input used to end in SIGSEGV.
/// The stack is reserved address space; memory is only used as deep as the recursion goes.
public enum DeepStack {
    public static let defaultBytes = 512 * 1024 * 1024

    public static func run<T>(stackBytes: Int = defaultBytes, _ body: @escaping () -> T) -> T {
        var result: T?
        let work = Work { result = body() }
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, stackBytes)
        #if canImport(Glibc) || canImport(Musl)
        var thread = pthread_t()
        #else
        var thread: pthread_t?
        #endif
        let context = Unmanaged.passRetained(work).toOpaque()
        let created = pthread_create(&thread, &attributes, { raw in
            #if canImport(Glibc) || canImport(Musl)
            Unmanaged<Work>.fromOpaque(raw!).takeRetainedValue().run()
            #else
            Unmanaged<Work>.fromOpaque(raw).takeRetainedValue().run()
            #endif
            return nil
        }, context)
        guard created == 0 else {
            // No thread (resource limits): run here, as before.
            Unmanaged<Work>.fromOpaque(context).release()
            return body()
        }
        #if canImport(Glibc) || canImport(Musl)
        pthread_join(thread, nil)
        #else
        pthread_join(thread!, nil)
        #endif
        return result!
    }

    private final class Work: @unchecked Sendable {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }
}
