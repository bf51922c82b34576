import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A thread started directly with pthread_create, for the callers that need what Foundation's Thread and
/// libdispatch do not give: a chosen stack size (DeepStack's 512 MB for libpg_query's recursion), or no
/// first-use set-up before the thread runs (the log scan's workers: libdispatch's first async builds its
/// manager thread, epoll and timers first).
public enum NativeThread {
    /// Starts `body` on a new thread with `stackBytes` of stack (nil: the default size); the caller joins or
    /// detaches it. Nil when no thread could be made (resource limits): `body` did not run.
    public static func start(stackBytes: Int? = nil, _ body: @escaping () -> Void) -> pthread_t? {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        if let stackBytes { pthread_attr_setstacksize(&attributes, stackBytes) }
        #if canImport(Glibc) || canImport(Musl)
        var thread = pthread_t()
        #else
        var thread: pthread_t?
        #endif
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        let created = pthread_create(&thread, &attributes, { raw in
            #if canImport(Glibc) || canImport(Musl)
            Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue().run()
            #else
            Unmanaged<Body>.fromOpaque(raw).takeRetainedValue().run()
            #endif
            return nil
        }, context)
        guard created == 0 else {
            Unmanaged<Body>.fromOpaque(context).release()
            return nil
        }
        #if canImport(Glibc) || canImport(Musl)
        return thread
        #else
        return thread!
        #endif
    }

    private final class Body: @unchecked Sendable {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }
}
