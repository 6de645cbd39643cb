import Foundation

/// The global functions a chat template can call: Jinja's `range`, `dict` and `namespace`, and the two
/// transformers adds, `raise_exception` and `strftime_now`.
enum TemplateGlobals {
    static let names: Set<String> = ["range", "dict", "namespace", "raise_exception", "strftime_now"]

    /// Jinja's sandbox refuses larger ranges.
    static let maxRange = 100_000
}

extension TemplateInterpreter {
    mutating func callGlobal(_ name: String, _ arguments: TemplateCallArguments) throws -> TemplateValue {
        switch name {
        case "raise_exception":
            let bound = try arguments.bind(["message"], function: name, required: 1)
            var failure = TemplateFailure(bound[0]!.pythonString)
            failure.raised = true
            throw failure
        case "strftime_now":
            let bound = try arguments.bind(["format"], function: name, required: 1)
            guard case .string(let format) = bound[0]! else { throw TemplateFailure("strftime() argument must be str") }
            return .string(TemplateStrftime.format(format, date: clock.now(), timeZone: clock.timeZone))
        case "namespace":
            var attributes = TemplateDictionary()
            if arguments.positional.count > 1 { throw TemplateFailure("namespace() takes at most 1 positional argument") }
            if let initial = arguments.positional.first {
                switch initial {
                case .dictionary(let dictionary): attributes = dictionary
                case .array(let pairs):
                    for pair in pairs {
                        guard case .array(let parts) = pair, parts.count == 2, case .string(let key) = parts[0] else {
                            throw TemplateFailure("namespace() needs a mapping or key/value pairs")
                        }
                        attributes[key] = parts[1]
                    }
                default: throw TemplateFailure("namespace() needs a mapping or key/value pairs")
                }
            }
            for (key, value) in arguments.keyword { attributes[key] = value }
            namespaces.append(attributes)
            return .object(TemplateObject(.namespace(namespaces.count - 1)))
        case "dict":
            if !arguments.positional.isEmpty { throw TemplateFailure("dict() takes keyword arguments only here") }
            return .dictionary(TemplateDictionary(arguments.keyword))
        case "range":
            if !arguments.keyword.isEmpty { throw TemplateFailure("range() takes no keyword arguments") }
            let numbers = try arguments.positional.map { value -> Int in
                switch value {
                case .int(let number): return number
                case .bool(let flag): return flag ? 1 : 0
                default: throw TemplateFailure("'\(value.typeName)' object cannot be interpreted as an integer")
                }
            }
            let (start, stop, step): (Int, Int, Int)
            switch numbers.count {
            case 1: (start, stop, step) = (0, numbers[0], 1)
            case 2: (start, stop, step) = (numbers[0], numbers[1], 1)
            case 3: (start, stop, step) = (numbers[0], numbers[1], numbers[2])
            default: throw TemplateFailure("range expected 1 to 3 arguments, got \(numbers.count)")
            }
            if step == 0 { throw TemplateFailure("range() arg 3 must not be zero") }
            // Count arithmetically (in Double, which cannot overflow here) before building anything.
            let count = max(0, ((Double(stop) - Double(start)) / Double(step)).rounded(.up))
            if count > Double(TemplateGlobals.maxRange) {
                throw TemplateFailure("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).")
            }
            return .array(stride(from: start, to: stop, by: step).map { .int($0) })
        default:
            throw TemplateFailure("'\(name)' is undefined")
        }
    }
}

/// C `strftime` in the "C" locale, which is what Python's `datetime.strftime` gives on Linux.
enum TemplateStrftime {
    static let weekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    static let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                         "October", "November", "December"]

    static func format(_ format: String, date: Date, timeZone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday, .nanosecond],
                                            from: date)
        let year = parts.year!, month = parts.month!, day = parts.day!
        let hour = parts.hour!, minute = parts.minute!, second = parts.second!
        let weekday = parts.weekday! - 1  // 0 = Sunday
        let dayOfYear = calendar.ordinality(of: .day, in: .year, for: date) ?? 1
        let hour12 = hour % 12 == 0 ? 12 : hour % 12

        func number(_ value: Int, _ width: Int, pad: Bool) -> String {
            let digits = String(value)
            return pad ? String(repeating: "0", count: max(0, width - digits.count)) + digits : digits
        }

        var output = ""
        var scalars = Array(format.unicodeScalars)[...]
        while let scalar = scalars.popFirst() {
            guard scalar == "%", let first = scalars.first else {
                output.unicodeScalars.append(scalar)
                continue
            }
            scalars.removeFirst()
            var directive = first
            var pad = true
            if directive == "-", let next = scalars.first {
                pad = false
                directive = next
                scalars.removeFirst()
            }
            switch directive {
            case "a": output += String(weekdays[weekday].prefix(3))
            case "A": output += weekdays[weekday]
            case "b", "h": output += String(months[month - 1].prefix(3))
            case "B": output += months[month - 1]
            case "d": output += number(day, 2, pad: pad)
            case "e": output += pad ? (day < 10 ? " " : "") + String(day) : String(day)
            case "m": output += number(month, 2, pad: pad)
            case "y": output += number(year % 100, 2, pad: pad)
            case "Y": output += String(year)
            case "H": output += number(hour, 2, pad: pad)
            case "I": output += number(hour12, 2, pad: pad)
            case "M": output += number(minute, 2, pad: pad)
            case "S": output += number(second, 2, pad: pad)
            case "f": output += number((parts.nanosecond ?? 0) / 1000, 6, pad: true)
            case "j": output += number(dayOfYear, 3, pad: pad)
            case "p": output += hour < 12 ? "AM" : "PM"
            case "w": output += String(weekday)
            case "u": output += String(weekday == 0 ? 7 : weekday)
            case "F": output += "\(year)-\(number(month, 2, pad: true))-\(number(day, 2, pad: true))"
            case "D": output += "\(number(month, 2, pad: true))/\(number(day, 2, pad: true))/\(number(year % 100, 2, pad: true))"
            case "T": output += "\(number(hour, 2, pad: true)):\(number(minute, 2, pad: true)):\(number(second, 2, pad: true))"
            case "R": output += "\(number(hour, 2, pad: true)):\(number(minute, 2, pad: true))"
            case "Z": output += timeZone.abbreviation(for: date) ?? ""
            case "z":
                let offset = timeZone.secondsFromGMT(for: date) / 60
                output += (offset < 0 ? "-" : "+") + number(abs(offset) / 60, 2, pad: true)
                    + number(abs(offset) % 60, 2, pad: true)
            case "n": output += "\n"
            case "t": output += "\t"
            case "%": output += "%"
            default:
                output.unicodeScalars.append("%")
                if !pad { output += "-" }
                output.unicodeScalars.append(directive)
            }
        }
        return output
    }
}
