import Foundation

/// Renders a parsed template: one interpreter per `render` call, so nothing is shared between renders.
///
/// Scoping follows Jinja2: each `for` iteration, macro call and `with` block gets a fresh frame whose reads fall
/// through to the enclosing frames and whose `set`s stay local, while `if` opens no scope. That is why templates
/// use `namespace()` to carry state out of loops; namespaces live in `namespaces` so that every copy of a namespace
/// value refers to the same attributes, as a Python object would.
struct TemplateInterpreter {
    /// Innermost last; `frames[0]` holds the render context and top-level `set`s.
    var frames: [[String: TemplateValue]]
    var namespaces: [TemplateDictionary] = []
    var macros: [MacroClosure] = []
    var callDepth = 0
    /// Loop iterations left for this render: a template cannot spin forever or build unbounded output.
    var iterationBudget = TemplateInterpreter.maxLoopIterations
    let clock: TemplateClock

    static let maxCallDepth = 100
    static let maxLoopIterations = 10_000_000
    static let maxOutputBytes = 1 << 28

    struct MacroClosure {
        var definition: TemplateMacro
        /// The frames where the macro was defined, below the live top-level frame.
        var capturedFrames: [[String: TemplateValue]]
    }

    enum Flow {
        case normal, breakLoop, continueLoop
    }

    init(context: [String: TemplateValue], clock: TemplateClock) {
        frames = [context]
        self.clock = clock
    }

    // MARK: - Errors

    func positioned(_ error: Error, at position: TemplateSourcePosition) -> Error {
        guard let failure = error as? TemplateFailure else { return error }
        if failure.raised { return ChatTemplateError(kind: .raised, line: position.line, column: position.column,
                                                     message: failure.message) }
        return ChatTemplateError(kind: .runtime, line: position.line, column: position.column,
                                 message: failure.message)
    }

    // MARK: - Variables

    func lookup(_ name: String) -> TemplateValue {
        for frame in frames.reversed() {
            if let value = frame[name] { return value }
        }
        if TemplateGlobals.names.contains(name) { return .object(TemplateObject(.builtin(name))) }
        return .undefined
    }

    mutating func assign(_ target: TemplateAssignTarget, _ value: TemplateValue) throws {
        switch target {
        case .name(let name):
            frames[frames.count - 1][name] = value
        case .tuple(let targets):
            let items = try unpack(value, count: targets.count)
            for (target, item) in zip(targets, items) { try assign(target, item) }
        case .namespaceAttribute(let name, let attribute):
            guard case .object(let object) = lookup(name), case .namespace(let id) = object.kind else {
                throw TemplateFailure("cannot assign attribute on non-namespace object")
            }
            namespaces[id][attribute] = value
        }
    }

    private func unpack(_ value: TemplateValue, count: Int) throws -> [TemplateValue] {
        let items = try iterate(value)
        if items.count > count { throw TemplateFailure("too many values to unpack (expected \(count))") }
        if items.count < count {
            throw TemplateFailure("not enough values to unpack (expected \(count), got \(items.count))")
        }
        return items
    }

    // MARK: - Statements

    mutating func execute(_ nodes: [TemplateNode], into output: inout String) throws -> Flow {
        for node in nodes {
            let flow = try execute(node, into: &output)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private mutating func execute(_ node: TemplateNode, into output: inout String) throws -> Flow {
        switch node {
        case .text(let text):
            output += text
            if output.utf8.count > TemplateInterpreter.maxOutputBytes {
                throw TemplateFailure("output too large (more than \(TemplateInterpreter.maxOutputBytes) bytes)")
            }
        case .output(let expression):
            let value = try evaluate(expression)
            output += display(value)
            if output.utf8.count > TemplateInterpreter.maxOutputBytes {
                throw positioned(TemplateFailure("output too large (more than \(TemplateInterpreter.maxOutputBytes) bytes)"),
                                 at: expression.position)
            }
        case .conditional(let branches, let otherwise):
            for branch in branches where try evaluate(branch.test).isTruthy {
                return try execute(branch.body, into: &output)
            }
            return try execute(otherwise, into: &output)
        case .forLoop(let loop):
            try executeLoop(loop, into: &output)
        case .assign(let target, let expression, let position):
            let value = try evaluate(expression)
            do { try assign(target, value) } catch { throw positioned(error, at: position) }
        case .assignBlock(let target, let filters, let body, let position):
            var captured = ""
            frames.append([:])
            _ = try execute(body, into: &captured)
            frames.removeLast()
            var value = TemplateValue.string(captured)
            for filter in filters { value = try applyFilter(filter, to: value) }
            do { try assign(target, value) } catch { throw positioned(error, at: position) }
        case .macro(let definition):
            let id = macros.count
            macros.append(MacroClosure(definition: definition, capturedFrames: Array(frames.dropFirst())))
            frames[frames.count - 1][definition.name] = .object(TemplateObject(.macro(id, name: definition.name)))
        case .callBlock(let call, let caller):
            output += try executeCallBlock(call, caller: caller)
        case .filterBlock(let filters, let body, _):
            var captured = ""
            frames.append([:])
            _ = try execute(body, into: &captured)
            frames.removeLast()
            var value = TemplateValue.string(captured)
            for filter in filters { value = try applyFilter(filter, to: value) }
            output += display(value)
        case .with(let assignments, let body):
            let values = try assignments.map { try evaluate($0.value) }
            frames.append([:])
            defer { frames.removeLast() }
            for (assignment, value) in zip(assignments, values) { try assign(assignment.target, value) }
            return try execute(body, into: &output)
        case .loopControl(let isBreak, _):
            return isBreak ? .breakLoop : .continueLoop
        case .scope(let body):
            frames.append([:])
            defer { frames.removeLast() }
            return try execute(body, into: &output)
        }
        return .normal
    }

    private mutating func executeLoop(_ loop: TemplateForLoop, into output: inout String) throws {
        let iterable = try evaluate(loop.iterable)
        var items: [TemplateValue]
        do { items = try iterate(iterable) } catch { throw positioned(error, at: loop.iterable.position) }
        if let condition = loop.condition {
            var kept: [TemplateValue] = []
            for item in items {
                frames.append([:])
                defer { frames.removeLast() }
                do { try assign(loop.target, item) } catch { throw positioned(error, at: loop.position) }
                if try evaluate(condition).isTruthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            frames.append([:])
            defer { frames.removeLast() }
            _ = try execute(loop.elseBody, into: &output)
            return
        }
        iterationBudget -= items.count
        if iterationBudget < 0 {
            throw positioned(TemplateFailure("template runs too long (more than \(TemplateInterpreter.maxLoopIterations) "
                                             + "loop iterations)"), at: loop.position)
        }
        // One frame for the whole loop, emptied at each iteration: each iteration still starts with no locals.
        frames.append([:])
        defer { frames.removeLast() }
        let top = frames.count - 1
        for (index, item) in items.enumerated() {
            let state = TemplateLoopState(index0: index, length: items.count,
                                          previous: index > 0 ? items[index - 1] : .undefined,
                                          next: index + 1 < items.count ? items[index + 1] : .undefined, depth0: 0)
            frames[top].removeAll(keepingCapacity: true)
            frames[top]["loop"] = .object(TemplateObject(.loop(state)))
            do { try assign(loop.target, item) } catch { throw positioned(error, at: loop.position) }
            let flow = try execute(loop.body, into: &output)
            if flow == .breakLoop { break }
        }
    }

    private mutating func executeCallBlock(_ call: TemplateExpression, caller: TemplateMacro) throws -> String {
        guard case .call(let calleeExpression, let argumentExpressions) = call.kind else { return "" }
        let callee = try evaluate(calleeExpression)
        let arguments = try evaluateArguments(argumentExpressions)
        let callerID = macros.count
        macros.append(MacroClosure(definition: caller, capturedFrames: Array(frames.dropFirst())))
        guard case .object(let object) = callee, case .macro(let id, _) = object.kind else {
            throw positioned(TemplateFailure("a call block needs a macro"), at: call.position)
        }
        do {
            return try invokeMacro(id, arguments, caller: .object(TemplateObject(.macro(callerID, name: "caller"))))
        } catch {
            throw positioned(error, at: call.position)
        }
    }

    // MARK: - Macros

    mutating func invokeMacro(_ id: Int, _ arguments: TemplateCallArguments, caller: TemplateValue? = nil) throws -> String {
        let closure = macros[id]
        let definition = closure.definition
        if arguments.positional.count > definition.parameters.count {
            throw TemplateFailure("macro '\(definition.name)' takes not more than \(definition.parameters.count) "
                                  + "argument(s)")
        }
        if callDepth >= TemplateInterpreter.maxCallDepth { throw TemplateFailure("maximum recursion depth exceeded") }
        var frame: [String: TemplateValue] = [:]
        var keyword = Dictionary(arguments.keyword, uniquingKeysWith: { _, last in last })
        let savedFrames = frames
        frames = [frames[0]] + closure.capturedFrames
        callDepth += 1
        defer {
            callDepth -= 1
            let root = frames[0]
            frames = savedFrames
            frames[0] = root
        }
        for (index, parameter) in definition.parameters.enumerated() {
            if index < arguments.positional.count {
                frame[parameter.name] = arguments.positional[index]
            } else if let value = keyword.removeValue(forKey: parameter.name) {
                frame[parameter.name] = value
            } else if let defaultValue = parameter.defaultValue {
                frames.append(frame)
                frame[parameter.name] = try evaluate(defaultValue)
                frames.removeLast()
            } else {
                frame[parameter.name] = .undefined
            }
        }
        if let unexpected = keyword.keys.sorted().first {
            throw TemplateFailure("macro '\(definition.name)' takes no keyword argument '\(unexpected)'")
        }
        if let caller { frame["caller"] = caller }
        frames.append(frame)
        var output = ""
        _ = try execute(definition.body, into: &output)
        return output
    }

    // MARK: - Display

    /// `str(value)` as `{{ }}` prints it; a namespace shows its attributes as Jinja's repr does.
    func display(_ value: TemplateValue) -> String {
        if case .object(let object) = value, case .namespace(let id) = object.kind {
            return "<Namespace " + TemplateValue.dictionary(namespaces[id]).pythonRepr + ">"
        }
        return value.pythonString
    }
}

/// Where `strftime_now` gets the time: the system clock by default, a fixed date in tests.
struct TemplateClock: Sendable {
    var now: @Sendable () -> Date
    var timeZone: TimeZone
}
