import Checks
import Foundation

/// `${…}` in a parameter that is code (SQL, a shell command line) is never pasted in as text:
/// a value holding `x' OR '1'='1` or `$(touch pwned)` would become code. Instead:
///
/// - in SQL, each reference becomes the next `$n` placeholder and its value is appended to the
///   step's bound parameters (`params:`), after those already listed there;
/// - in a shell command, each reference becomes a quoted environment variable
///   (`${params.backup}` -> `"${OPSCTL_PARAM_BACKUP}"`) set for that command only.
///
/// The kind declares which of its parameters are code (`ParameterSpec.code`).
public enum CodeBinding {
    /// A reference that cannot be bound where it stands (found when the runbook is loaded).
    public struct Refusal: Error, CustomStringConvertible, Sendable {
        /// Offset in characters of the `${` in the text.
        public var offset: Int
        public var message: String
        public var hint: String
        public var description: String { message }
    }

    /// Binds the code parameters of a step (`specs`, as written in `with`) into `resolved`, which holds
    /// its other parameters already resolved (the bound-values list and environment map among them).
    static func bind(_ specs: [ParameterSpec], of with: [String: JSONValue], into resolved: inout [String: JSONValue],
                     scope: Scope) throws {
        for spec in specs {
            guard let written = with[spec.name] else { continue }
            guard case let .string(text) = written else {
                resolved[spec.name] = try Interpolation.resolve(written, in: scope)
                continue
            }
            switch spec.code {
            case let .sql(boundBy)?:
                let existing = resolved[boundBy]?.array ?? []
                let bound = try bindSQL(text, existing: existing.count, scope: scope)
                resolved[spec.name] = .string(bound.sql)
                if !bound.values.isEmpty { resolved[boundBy] = .array(existing + bound.values) }
            case let .shell(environment)?:
                let bound = try bindShell(text, scope: scope)
                resolved[spec.name] = .string(bound.command)
                if !bound.variables.isEmpty {
                    var map = resolved[environment]?.object ?? [:]
                    for (name, value) in bound.variables { map[name] = .string(value) }
                    resolved[environment] = .object(map)
                }
            case nil:
                resolved[spec.name] = try Interpolation.resolve(written, in: scope)
            }
        }
    }

    // MARK: - SQL

    /// Load-time check: references inside identifiers, dollar-quoted bodies or string literals
    /// (other than a literal that is exactly `'${…}'`) cannot become parameters.
    public static func checkSQL(_ sql: String) -> Refusal? {
        do { _ = try rewriteSQL(sql) { _ in 1 } } catch let refusal as Refusal { return refusal } catch {}
        return nil
    }

    /// Run time: `sql` with references replaced by `$n` (n after `existing` bound values and after any
    /// `$n` already written), and the values to bind for them, in order.
    public static func bindSQL(_ sql: String, existing: Int, scope: Scope) throws -> (sql: String, values: [JSONValue]) {
        var values: [JSONValue] = []
        var numbers: [String: Int] = [:]
        let first = max(existing, highestPlaceholder(in: sql)) + 1
        let text = try rewriteSQL(sql) { expression in
            if let n = numbers[expression] { return n }
            values.append(try Interpolation.value(of: expression, in: scope))
            numbers[expression] = first + values.count - 1
            return first + values.count - 1
        }
        return (text, values)
    }

    static func refusal(_ offset: Int, _ expression: String, where place: String) -> Refusal {
        Refusal(offset: offset,
                message: "${\(expression)} inside \(place) cannot be bound as a parameter (values are never pasted into SQL)",
                hint: "write $1 where the value goes and list it under params: [\"${\(expression)}\"] (or put the reference outside quotes: WHERE x = ${\(expression)}), e.g. make_interval(days => $1::int)")
    }

    /// Walks the SQL as Postgres lexes it (quotes, identifiers, comments, dollar quotes); `placeholder`
    /// gives the number for a reference found in code position.
    static func rewriteSQL(_ sql: String, placeholder: (String) throws -> Int) throws -> String {
        let chars = Array(sql)
        var out = ""
        var i = 0
        func reference(at j: Int) -> (expression: String, end: Int)? {
            guard j + 1 < chars.count, chars[j] == "$", chars[j + 1] == "{",
                  let close = chars[(j + 2)...].firstIndex(of: "}") else { return nil }
            return (String(chars[(j + 2)..<close]), close + 1)
        }
        while i < chars.count {
            let c = chars[i]
            if let ref = reference(at: i) {
                out += "$\(try placeholder(ref.expression))"
                i = ref.end
            } else if c == "'" {
                // A literal that is exactly '${…}' is the value itself: bind it in place of the literal.
                if let ref = reference(at: i + 1), ref.end < chars.count, chars[ref.end] == "'",
                   !(ref.end + 1 < chars.count && chars[ref.end + 1] == "'") {
                    out += "$\(try placeholder(ref.expression))"
                    i = ref.end + 1
                    continue
                }
                let backslashes = i > 0 && (chars[i - 1] == "E" || chars[i - 1] == "e")
                    && (i < 2 || !(chars[i - 2].isLetter || chars[i - 2].isNumber || chars[i - 2] == "_"))
                var j = i + 1
                while j < chars.count {
                    if backslashes && chars[j] == "\\" { j += 2; continue }
                    if chars[j] == "'" {
                        if j + 1 < chars.count && chars[j + 1] == "'" { j += 2; continue }
                        break
                    }
                    if let ref = reference(at: j) { throw refusal(j, ref.expression, where: "a string literal") }
                    j += 1
                }
                let end = min(j + 1, chars.count)
                out += String(chars[i..<end])
                i = end
            } else if c == "\"" {
                var j = i + 1
                while j < chars.count && chars[j] != "\"" {
                    if let ref = reference(at: j) { throw refusal(j, ref.expression, where: "a quoted identifier") }
                    j += 1
                }
                let end = min(j + 1, chars.count)
                out += String(chars[i..<end])
                i = end
            } else if c == "-", i + 1 < chars.count, chars[i + 1] == "-" {
                // Comments are copied untouched: a reference there is not substituted at all.
                let end = chars[i...].firstIndex(where: \.isNewline) ?? chars.count
                out += String(chars[i..<end])
                i = end
            } else if c == "/", i + 1 < chars.count, chars[i + 1] == "*" {
                var depth = 0
                var j = i
                repeat {
                    if j + 1 < chars.count && chars[j] == "/" && chars[j + 1] == "*" { depth += 1; j += 2 }
                    else if j + 1 < chars.count && chars[j] == "*" && chars[j + 1] == "/" { depth -= 1; j += 2 }
                    else { j += 1 }
                } while depth > 0 && j < chars.count
                out += String(chars[i..<j])
                i = j
            } else if c == "$", let tag = dollarTag(chars, at: i) {
                let closing = Array(tag)
                var j = i + closing.count
                var closed = false
                while j < chars.count {
                    if let ref = reference(at: j) { throw refusal(j, ref.expression, where: "a dollar-quoted string") }
                    if chars[j] == "$" && Array(chars[j..<min(chars.count, j + closing.count)]) == closing {
                        j += closing.count
                        closed = true
                        break
                    }
                    j += 1
                }
                if !closed { j = chars.count }
                out += String(chars[i..<j])
                i = j
            } else {
                out.append(c)
                i += 1
            }
        }
        return out
    }

    /// `$tag$` or `$$` starting at `i` (not `$1`, not `${`).
    static func dollarTag(_ chars: [Character], at i: Int) -> String? {
        var j = i + 1
        while j < chars.count, chars[j].isLetter || chars[j] == "_" || (j > i + 1 && chars[j].isNumber) { j += 1 }
        guard j < chars.count, chars[j] == "$" else { return nil }
        return String(chars[i...j])
    }

    /// The highest `$n` already written in the SQL (so appended references never collide with it).
    static func highestPlaceholder(in sql: String) -> Int {
        var highest = 0
        let chars = Array(sql)
        var i = 0
        while i < chars.count {
            if chars[i] == "$", i + 1 < chars.count, chars[i + 1].isASCII, chars[i + 1].isNumber,
               i == 0 || !(chars[i - 1].isLetter || chars[i - 1].isNumber || chars[i - 1] == "_") {
                var j = i + 1
                while j < chars.count, chars[j].isASCII, chars[j].isNumber { j += 1 }
                highest = max(highest, Int(String(chars[(i + 1)..<j])) ?? 0)
                i = j
            } else {
                i += 1
            }
        }
        return highest
    }

    // MARK: - Shell

    /// Run time: `command` with every reference replaced by a quoted variable, and the variables to set.
    /// `$OPSCTL_PARAM_<NAME>` written directly in the command is set too.
    public static func bindShell(_ command: String, scope: Scope) throws -> (command: String, variables: [String: String]) {
        var variables: [String: String] = [:]
        var names: [String: String] = [:]
        func variable(for expression: String) throws -> String {
            if let name = names[expression] { return name }
            let value = try Interpolation.value(of: expression, in: scope)
            let text = value.string ?? value.jsonText
            var name = variableName(expression)
            var n = 2
            while let taken = variables[name], taken != text { name = variableName(expression) + "_\(n)"; n += 1 }
            variables[name] = text
            names[expression] = name
            return name
        }
        enum Quote { case none, single, double }
        let chars = Array(command)
        var out = ""
        var quote = Quote.none
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if quote != .single, c == "$", i + 1 < chars.count, chars[i + 1] == "{",
               let close = chars[(i + 2)...].firstIndex(of: "}") {
                let name = try variable(for: String(chars[(i + 2)..<close]))
                switch quote {
                case .none: out += "\"${\(name)}\""
                case .double: out += "${\(name)}"
                case .single: break
                }
                i = close + 1
                continue
            }
            if quote == .single, c == "$", i + 1 < chars.count, chars[i + 1] == "{",
               let close = chars[(i + 2)...].firstIndex(of: "}") {
                // Close the single quotes, expand the variable in double quotes, reopen.
                out += "'\"${\(try variable(for: String(chars[(i + 2)..<close])))}\"'"
                i = close + 1
                continue
            }
            out.append(c)
            switch (quote, c) {
            case (.none, "\\"), (.double, "\\"):
                if i + 1 < chars.count { out.append(chars[i + 1]); i += 1 }
            case (.none, "'"): quote = .single
            case (.single, "'"): quote = .none
            case (.none, "\""): quote = .double
            case (.double, "\""): quote = .none
            default: break
            }
            i += 1
        }
        for (name, value) in scope.params {
            let variable = "OPSCTL_PARAM_" + variableSuffix(name)
            if variables[variable] == nil, out.contains(variable) { variables[variable] = value.string ?? value.jsonText }
        }
        return (out, variables)
    }

    /// `params.backup` -> `OPSCTL_PARAM_BACKUP`, `steps.plan.details.file` -> `OPSCTL_STEPS_PLAN_DETAILS_FILE`.
    public static func variableName(_ expression: String) -> String {
        let path = (expression.components(separatedBy: ":-").first ?? expression).trimmingCharacters(in: .whitespaces)
        if path.hasPrefix("params.") { return "OPSCTL_PARAM_" + variableSuffix(String(path.dropFirst("params.".count))) }
        return "OPSCTL_" + variableSuffix(path)
    }

    static func variableSuffix(_ text: String) -> String {
        String(text.uppercased().map { ($0.isASCII && ($0.isLetter || $0.isNumber)) ? $0 : "_" })
    }
}
