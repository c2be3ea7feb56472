import Foundation

/// Decodes and validates ingest bodies (`{events, context}` JSON batches or NDJSON) into
/// `DecodedBatch`es, in one pass over the bytes and without per-event allocation.
///
/// ```swift
/// let decoder = EventDecoder(limits: IngestLimits(), dimensions: DimensionSet())
/// var batch = DecodedBatch()
/// try body.withUnsafeBytes { try decoder.decode($0, format: .json, nowMs: now, into: &batch) }
/// ```
public struct EventDecoder: Sendable {
    /// Body formats accepted by the ingest endpoint.
    public enum Format: UInt8, Sendable {
        case json = 0
        case ndjson = 1
    }

    public var limits: IngestLimits
    public let dimensions: DimensionSet
    let schema: EventSchema
    let typeHashes: [UInt64]
    let requiredMasks: [UInt64]
    /// What `readTyped` needs of each typed field, flat and free of reference counting:
    /// `facts[type * factsStride + field]`.
    let facts: [FieldFacts]
    let factsStride: Int
    /// The enum values' hashes of every enumeration field, back to back.
    let enumHashes: [UInt64]
    /// Field name hashes, `fieldNames[type * factsStride + field]` (0 past a type's fields).
    let fieldNames: [UInt64]
    let fieldCounts: [Int]
    /// Whether event, session and thread ids are hashed (deduplication and live sessions need
    /// them; a history backfill does not, and skips the work).
    public let hashesIds: Bool

    public init(limits: IngestLimits = IngestLimits(), dimensions: DimensionSet = DimensionSet(), hashesIds: Bool = true) {
        self.limits = limits
        self.dimensions = dimensions
        self.schema = .seed
        self.typeHashes = EventType.seedTypes.map { StableHash.hash($0.name) }
        self.requiredMasks = EventType.allCases.map { EventSchema.seed.requiredMask($0) }
        self.hashesIds = hashesIds
        let stride = EventSchema.seed.fields.map(\.count).max() ?? 0
        var facts = [FieldFacts](repeating: FieldFacts(), count: stride * EventSchema.seed.fields.count)
        var enumHashes: [UInt64] = []
        for (t, fields) in EventSchema.seed.fields.enumerated() {
            for (i, f) in fields.enumerated() {
                let dimension = dimensions.index(ofHash: f.nameHash)
                facts[t * stride + i] = FieldFacts(
                    f, dimension: dimension, enumStart: enumHashes.count,
                    hashing: dimension != nil || f.role == .model || (f.role == .threadId && hashesIds))
                enumHashes += f.enumHashes
            }
        }
        var names = [UInt64](repeating: 0, count: stride * EventSchema.seed.fields.count)
        for (t, fields) in EventSchema.seed.fields.enumerated() {
            for (i, f) in fields.enumerated() { names[t * stride + i] = f.nameHash }
        }
        self.fieldNames = names
        self.fieldCounts = EventSchema.seed.fields.map(\.count)
        self.facts = facts
        self.factsStride = stride
        self.enumHashes = enumHashes
    }

    /// Decodes `bytes` into `batch` (which is cleared first). Throws only when the body as a whole
    /// is unusable; invalid events become `batch.rejections`.
    public func decode(
        _ bytes: UnsafeRawBufferPointer, format: Format, nowMs: Int64, into batch: inout DecodedBatch
    ) throws(BatchError) {
        batch.removeAll()
        switch format {
        case .json: try decodeBatch(bytes, nowMs: nowMs, into: &batch)
        case .ndjson: try decodeLines(bytes, nowMs: nowMs, into: &batch)
        }
    }

    // MARK: - Envelopes

    func decodeBatch(_ bytes: UnsafeRawBufferPointer, nowMs: Int64, into batch: inout DecodedBatch) throws(BatchError) {
        var r = JSONReader(bytes)
        do {
            r.skipWhitespace()
            guard r.peek() == UInt8(ascii: "{") else {
                throw BatchError(.invalidShape, "body must be a JSON object {\"events\": [...], \"context\": {...}}")
            }
            r.pos += 1
            var sawEvents = false
            if !r.consume(UInt8(ascii: "}")) {
                repeat {
                    let key = try r.readString()
                    try r.expect(UInt8(ascii: ":"))
                    if r.equals(key, "events") {
                        guard r.nextKind() == .array else { throw BatchError(.invalidShape, "\"events\" must be an array") }
                        sawEvents = true
                        r.pos += 1
                        if !r.consume(UInt8(ascii: "]")) {
                            repeat {
                                if batch.total >= limits.maxEventsPerBatch {
                                    throw BatchError(.tooManyEvents, "a batch holds at most \(limits.maxEventsPerBatch) events (ingest.max_events_per_batch)")
                                }
                                try decodeEvent(&r, index: batch.total, nowMs: nowMs, lineContext: false, into: &batch)
                                batch.total += 1
                            } while r.consume(UInt8(ascii: ","))
                            try r.expect(UInt8(ascii: "]"))
                        }
                    } else if r.equals(key, "context") {
                        if r.readNull() { continue }
                        guard r.nextKind() == .object else { throw BatchError(.invalidShape, "\"context\" must be an object") }
                        try decodeContext(&r, into: &batch)
                    } else {
                        try r.skipValue()
                    }
                } while r.consume(UInt8(ascii: ","))
                try r.expect(UInt8(ascii: "}"))
            }
            r.skipWhitespace()
            guard r.atEnd else { throw BatchError(.invalidJSON, "unexpected data after the JSON object at byte \(r.pos)") }
            guard sawEvents else { throw BatchError(.invalidShape, "body must have an \"events\" array") }
        } catch let e as JSONSyntaxError {
            throw BatchError(.invalidJSON, "malformed JSON at byte \(e.offset): \(e.message)")
        } catch let e as BatchError {
            throw e
        } catch {
            throw BatchError(.invalidJSON, "malformed JSON")
        }
        finish(&batch)
    }

    func decodeLines(_ bytes: UnsafeRawBufferPointer, nowMs: Int64, into batch: inout DecodedBatch) throws(BatchError) {
        var lineStart = 0
        let n = bytes.count
        var line = 0
        while lineStart < n {
            // libc's vectorised memchr finds the line's end.
            let lineEnd = memchr(bytes.baseAddress! + lineStart, 0x0A, n - lineStart)
                .map { UnsafeRawPointer($0) - bytes.baseAddress! } ?? n
            var r = JSONReader(bytes, start: lineStart, end: lineEnd)
            r.skipWhitespace()
            if !r.atEnd {
                if batch.total >= limits.maxEventsPerBatch {
                    throw BatchError(.tooManyEvents, "a batch holds at most \(limits.maxEventsPerBatch) events (ingest.max_events_per_batch)")
                }
                do {
                    try decodeEvent(&r, index: line, nowMs: nowMs, lineContext: true, into: &batch)
                    r.skipWhitespace()
                    if !r.atEnd {
                        throw JSONSyntaxError(offset: r.pos, message: "unexpected data after the event")
                    }
                } catch let e as JSONSyntaxError {
                    // A malformed line is that line's problem, not the batch's.
                    if let last = batch.events.last, Int(last.index) == line { batch.events.removeLast() }
                    batch.rejections.removeAll { $0.index == line }
                    batch.rejections.append(Rejection(index: line, field: "", reason: "malformed JSON at byte \(e.offset - lineStart): \(e.message)"))
                } catch {
                    batch.rejections.append(Rejection(index: line, field: "", reason: "malformed JSON"))
                }
                batch.total += 1
                line += 1
            }
            lineStart = lineEnd + 1
            batch.lines += 1
        }
        finish(&batch)
    }

    /// Reads the batch `context`: user, session and dimension values.
    func decodeContext(_ r: inout JSONReader, into batch: inout DecodedBatch) throws(JSONSyntaxError) {
        r.pos += 1
        if r.consume(UInt8(ascii: "}")) { return }
        repeat {
            let key = try r.readString()
            try r.expect(UInt8(ascii: ":"))
            if r.equals(key, "user_id"), r.nextKind() == .string {
                batch.contextUser = try r.readString()
            } else if r.equals(key, "session_id"), r.nextKind() == .string {
                batch.contextSession = try r.readString()
            } else if let d = dimensions.index(ofHash: key.hash), let v = try readDimValue(&r) {
                batch.contextDims.append(DimValue(dimension: UInt8(d), value: v))
                batch.contextDimMask |= 1 << UInt32(d)
            } else {
                try r.skipValue()
            }
        } while r.consume(UInt8(ascii: ","))
        try r.expect(UInt8(ascii: "}"))
    }

    /// Fills events without their own user/session from the batch context; rejects events left
    /// without a user.
    func finish(_ batch: inout DecodedBatch) {
        var i = 0
        var kept = 0
        while i < batch.events.count {
            var e = batch.events[i]
            if e.user.isNone { e.user = batch.contextUser }
            if e.session.isNone { e.session = batch.contextSession }
            if e.user.isNone {
                batch.rejections.append(Rejection(index: Int(e.index), field: "user_id", reason: "required (in the event or the batch context)"))
            } else if Int(e.user.length) > limits.maxIdBytes {
                batch.rejections.append(Rejection(index: Int(e.index), field: "user_id", reason: "longer than \(limits.maxIdBytes) bytes"))
            } else {
                batch.events[kept] = e
                kept += 1
            }
            i += 1
        }
        batch.events.removeLast(batch.events.count - kept)
        if batch.rejections.count > 1 { batch.rejections.sort { $0.index < $1.index } }
    }

    // MARK: - One event

    /// Decodes one event object. Syntax errors propagate; validation errors become a rejection.
    func decodeEvent(
        _ r: inout JSONReader, index: Int, nowMs: Int64, lineContext: Bool, into batch: inout DecodedBatch
    ) throws(JSONSyntaxError) {
        r.skipWhitespace()
        guard r.peek() == UInt8(ascii: "{") else {
            try r.skipValue()
            batch.rejections.append(Rejection(index: index, field: "", reason: "an event must be a JSON object"))
            return
        }
        r.pos += 1
        var e = DecodedEvent()
        e.index = Int32(index)
        e.dimStart = Int32(batch.dims.count)
        var problem: (String, String)? = nil
        var sawType = false
        var propertiesStart = -1
        var ctxStart = -1
        var timestampSet = false

        if !r.consume(UInt8(ascii: "}")) {
            repeat {
                // Event-level keys are matched by their bytes: no hash needed.
                let key = try r.readUnhashedString()
                try r.expect(UInt8(ascii: ":"))
                if r.equals(key, "event_type") {
                    guard r.nextKind() == .string else { try r.skipValue(); problem = problem ?? ("event_type", "must be a string"); continue }
                    let t = try r.readString()
                    e.typeName = t
                    sawType = true
                    if let k = typeHashes.firstIndex(of: t.hash) {
                        e.type = EventType.seedTypes[k]
                    } else {
                        e.type = .custom
                        if limits.strict {
                            problem = problem ?? ("event_type", "unknown event type; strict mode allows " + EventType.seedTypes.map(\.name).joined(separator: ", "))
                        } else if t.length == 0 {
                            problem = problem ?? ("event_type", "must not be empty")
                        }
                    }
                    addDimension(0, t, to: &e, batch: &batch)
                    if propertiesStart >= 0 {
                        // Properties came first: validate them now that the type is known.
                        let save = r.pos
                        r.pos = propertiesStart
                        try decodeProperties(&r, event: &e, batch: &batch, problem: &problem)
                        r.pos = save
                        propertiesStart = -2
                    }
                } else if r.equals(key, "properties") {
                    if r.readNull() { continue }
                    guard r.nextKind() == .object else { try r.skipValue(); problem = problem ?? ("properties", "must be an object"); continue }
                    if sawType {
                        try decodeProperties(&r, event: &e, batch: &batch, problem: &problem)
                        propertiesStart = -2
                    } else {
                        propertiesStart = r.pos
                        try r.skipValue()
                    }
                } else if r.equals(key, "timestamp") {
                    switch r.nextKind() {
                    case .string:
                        let s = try r.readUnhashedString()
                        if let ms = Timestamp.parseMillis(r.bytes, start: Int(s.start), length: Int(s.length)), !s.hasEscapes {
                            e.timestampMs = ms
                            timestampSet = true
                        } else {
                            problem = problem ?? ("timestamp", "must be an RFC 3339 date-time such as 2026-11-21T10:00:00.123Z")
                        }
                    case .number:
                        let v = try r.readNumber()
                        if v.isFinite, v >= 0, v < 1e15 { e.timestampMs = Int64(v); timestampSet = true } else { problem = problem ?? ("timestamp", "a numeric timestamp must be epoch milliseconds") }
                    case .null:
                        _ = r.readNull()
                    default:
                        try r.skipValue()
                        problem = problem ?? ("timestamp", "must be an RFC 3339 string or epoch milliseconds")
                    }
                } else if r.equals(key, "event_id") {
                    if r.readNull() { continue }
                    guard r.nextKind() == .string else { try r.skipValue(); problem = problem ?? ("event_id", "must be a string"); continue }
                    let s = try r.readString(hashing: hashesIds)
                    if s.length == 0 || Int(s.length) > limits.maxIdBytes {
                        problem = problem ?? ("event_id", "must be 1 to \(limits.maxIdBytes) bytes")
                    }
                    e.eventId = s.hash | 1  // never 0, which means "no id"
                } else if r.equals(key, "user_id") {
                    if r.readNull() { continue }
                    guard r.nextKind() == .string else { try r.skipValue(); problem = problem ?? ("user_id", "must be a string"); continue }
                    let s = try r.readString()
                    if s.length > 0 { e.user = s }
                } else if r.equals(key, "session_id") {
                    if r.readNull() { continue }
                    guard r.nextKind() == .string else { try r.skipValue(); problem = problem ?? ("session_id", "must be a string"); continue }
                    let s = try r.readString(hashing: hashesIds)
                    if Int(s.length) > limits.maxIdBytes { problem = problem ?? ("session_id", "longer than \(limits.maxIdBytes) bytes") }
                    if s.length > 0 { e.session = s }
                } else if r.equals(key, "context") {
                    if r.readNull() { continue }
                    guard r.nextKind() == .object else { try r.skipValue(); problem = problem ?? ("context", "must be an object"); continue }
                    ctxStart = r.pos
                    try r.skipValue()
                } else {
                    try r.skipValue()
                }
            } while r.consume(UInt8(ascii: ","))
            try r.expect(UInt8(ascii: "}"))
        }
        let endPos = r.pos

        if !sawType { problem = problem ?? ("event_type", "required") }
        if propertiesStart >= 0 {
            // Properties without a usable type: still check their syntax-level limits.
            r.pos = propertiesStart
            try decodeProperties(&r, event: &e, batch: &batch, problem: &problem)
            r.pos = endPos
        } else if propertiesStart == -1, sawType, e.type != .custom, problem == nil {
            // No properties at all: every required typed field is missing.
            if let f = schema.fields[Int(e.type.rawValue)].first(where: { $0.required }) {
                problem = ("properties." + f.name, "required")
            }
        }
        if ctxStart >= 0 {
            // Per-event context: user/session fall back to it, its dimensions apply where the
            // event has none of its own.
            r.pos = ctxStart + 1
            if !r.consume(UInt8(ascii: "}")) {
                repeat {
                    let key = try r.readString()
                    try r.expect(UInt8(ascii: ":"))
                    if r.equals(key, "user_id"), r.nextKind() == .string {
                        let s = try r.readString()
                        if e.user.isNone, s.length > 0 { e.user = s }
                    } else if r.equals(key, "session_id"), r.nextKind() == .string {
                        let s = try r.readString()
                        if e.session.isNone, s.length > 0 { e.session = s }
                    } else {
                        try readDimensionOrSkip(&r, key: key, event: &e, batch: &batch)
                    }
                } while r.consume(UInt8(ascii: ","))
            }
            r.pos = endPos
        }
        if !timestampSet {
            e.timestampMs = nowMs
        } else if e.timestampMs > nowMs + Int64(limits.maxFutureSeconds) * 1000 {
            problem = problem ?? ("timestamp", "more than \(limits.maxFutureSeconds) s in the future (ingest.max_future_seconds)")
        }
        if problem == nil, e.type == .feedbackSubmission, e.score != .min {
            if e.feedbackType == 0, !(0...10).contains(e.score) { problem = ("properties.score", "an nps score must be 0 to 10") }
            if e.feedbackType == 1, !(1...5).contains(e.score) { problem = ("properties.score", "a csat score must be 1 to 5") }
        }
        if let (field, reason) = problem {
            batch.dims.removeLast(batch.dims.count - Int(e.dimStart))
            batch.rejections.append(Rejection(index: index, field: field, reason: reason))
            return
        }
        batch.events.append(e)
    }

    /// Records dimension `d`'s value for event `e`.
    @inline(__always)
    func addDimension(_ d: Int, _ v: StringRef, to e: inout DecodedEvent, batch: inout DecodedBatch) {
        batch.dims.append(DimValue(dimension: UInt8(d), value: v))
        e.dimCount += 1
        e.dimMask |= 1 << UInt32(d)
    }

    /// Reads the value of `key` as a dimension of `e` if it is a tracked one the event does not
    /// have yet; skips it otherwise.
    func readDimensionOrSkip(_ r: inout JSONReader, key: StringRef, event e: inout DecodedEvent, batch: inout DecodedBatch) throws(JSONSyntaxError) {
        if let d = dimensions.index(ofHash: key.hash), e.dimMask & (1 << UInt32(d)) == 0, let v = try readDimValue(&r) {
            addDimension(d, v, to: &e, batch: &batch)
        } else {
            try r.skipValue()
        }
    }

    /// Reads a dimension value: strings as themselves, numbers and booleans by their text.
    func readDimValue(_ r: inout JSONReader) throws(JSONSyntaxError) -> StringRef? {
        switch r.nextKind() {
        case .string:
            let s = try r.readString()
            return s
        case .number, .bool:
            let start = r.pos
            if r.nextKind() == .number { _ = try r.readNumber() } else { _ = try r.readBool() }
            let raw = UnsafeRawBufferPointer(rebasing: r.bytes[start..<r.pos])
            return StringRef(start: Int32(start), length: Int32(r.pos - start), hash: StableHash.hash(raw), hasEscapes: false)
        default:
            return nil
        }
    }

    /// Reads and validates the `properties` object of an event of known type.
    func decodeProperties(
        _ r: inout JSONReader, event e: inout DecodedEvent, batch: inout DecodedBatch, problem: inout (String, String)?
    ) throws(JSONSyntaxError) {
        let start = r.pos
        r.pos += 1
        var count = 0
        var seen: UInt64 = 0
        let type = Int(e.type.rawValue)
        if !r.consume(UInt8(ascii: "}")) {
            repeat {
                let key = try r.readString()
                try r.expect(UInt8(ascii: ":"))
                count += 1
                var handled = false
                if let fi = fieldIndex(type: type, nameHash: key.hash) {
                    handled = true
                    if r.readNull() {
                        // An explicit null counts as absent.
                    } else {
                        seen |= 1 << UInt64(fi)
                        try readTyped(&r, type: type, field: fi, event: &e, batch: &batch, problem: &problem)
                    }
                }
                if !handled {
                    try readDimensionOrSkip(&r, key: key, event: &e, batch: &batch)
                }
            } while r.consume(UInt8(ascii: ","))
            try r.expect(UInt8(ascii: "}"))
        }
        if count > limits.maxProperties {
            problem = problem ?? ("properties", "\(count) properties; at most \(limits.maxProperties) (ingest.max_properties)")
        } else if r.pos - start > limits.maxPropertiesBytes {
            problem = problem ?? ("properties", "\(r.pos - start) bytes; at most \(limits.maxPropertiesBytes) (ingest.max_properties_bytes)")
        }
        let missing = requiredMasks[type] & ~seen
        if missing != 0, problem == nil {
            let fi = missing.trailingZeroBitCount
            problem = ("properties." + schema.fields[type][fi].name, "required")
        }
    }

    /// The typed field of `type` whose name hashes to `nameHash`.
    @inline(__always)
    func fieldIndex(type: Int, nameHash: UInt64) -> Int? {
        let base = type &* factsStride
        for i in 0..<fieldCounts[type] where fieldNames[base &+ i] == nameHash { return i }
        return nil
    }

    /// Reads one typed property, checking its JSON type and enum, and records its role.
    func readTyped(
        _ r: inout JSONReader, type: Int, field fi: Int, event e: inout DecodedEvent, batch: inout DecodedBatch,
        problem: inout (String, String)?
    ) throws(JSONSyntaxError) {
        let f = facts[type &* factsStride &+ fi]
        let hashing = f.hashing
        func bad(_ reason: String) { problem = problem ?? ("properties." + schema.fields[type][fi].name, reason) }
        let valueStart = r.pos
        var dimRef: StringRef? = nil
        switch f.kind {
        case .string:
            guard r.nextKind() == .string else { try r.skipValue(); bad("must be a string"); return }
            let s = try r.readString(hashing: hashing)
            if hashing { dimRef = s }
            if f.role == .threadId {
                if Int(s.length) > limits.maxIdBytes { bad("longer than \(limits.maxIdBytes) bytes") }
                e.thread = s
            }
            if f.role == .model { e.model = s }
        case .enumeration:
            guard r.nextKind() == .string else { try r.skipValue(); bad("must be \(schema.fields[type][fi].type.description)"); return }
            let s = try r.readString()
            guard let k = f.enumIndex(of: s.hash, in: enumHashes) else { bad("must be \(schema.fields[type][fi].type.description)"); return }
            dimRef = s
            if f.role == .threadAction { e.threadAction = Int8(k) }
            if f.role == .feedbackType { e.feedbackType = Int8(k) }
        case .boolean:
            guard r.nextKind() == .bool else { try r.skipValue(); bad("must be a boolean"); return }
            let v = try r.readBool()
            if f.role == .success { e.success = v ? 1 : 0 }
            dimRef = StringRef(start: Int32(valueStart), length: 0, hash: 0, hasEscapes: false)
        case .integer, .number:
            guard r.nextKind() == .number else { try r.skipValue(); bad("must be \(schema.fields[type][fi].type.description)"); return }
            let v = try r.readNumber()
            if f.kind == .integer, v.rounded(.towardZero) != v || abs(v) > 9_007_199_254_740_992 {
                bad("must be an integer")
                return
            }
            switch f.role {
            case .responseTime:
                guard v >= 0 else { bad("must be ≥ 0"); return }
                e.responseTimeMs = v
            case .duration:
                guard v >= 0 else { bad("must be ≥ 0"); return }
                e.durationMs = v
            case .tokens:
                guard v >= 0 else { bad("must be ≥ 0"); return }
                e.tokens = v
            case .score:
                e.score = Int32(clamping: Int64(v))
            default: break
            }
            dimRef = StringRef(start: Int32(valueStart), length: 0, hash: 0, hasEscapes: false)
        }
        // Typed fields can be dimensions too (`model_used`, `feature_name`, `message_type`, …).
        if let ref = dimRef, f.dimension >= 0, case let d = Int(f.dimension), e.dimMask & (1 << UInt32(d)) == 0 {
            var v = ref
            if v.length == 0, v.hash == 0 {
                // Non-string value: use its text.
                var s = Int(v.start)
                while s < r.pos, r.bytes[s] == 0x20 || r.bytes[s] == 0x0A || r.bytes[s] == 0x09 || r.bytes[s] == 0x0D { s += 1 }
                let raw = UnsafeRawBufferPointer(rebasing: r.bytes[s..<r.pos])
                v = StringRef(start: Int32(s), length: Int32(r.pos - s), hash: StableHash.hash(raw), hasEscapes: false)
            }
            addDimension(d, v, to: &e, batch: &batch)
        }
    }
}

/// One typed field as the decoder's hot path reads it (see `EventDecoder.facts`).
struct FieldFacts: Sendable {
    enum Kind: UInt8, Sendable { case string, enumeration, boolean, integer, number }

    var kind: Kind = .string
    var role: EventSchema.Role = .none
    /// Whether a string value is hashed (a dimension, the model, a thread id).
    var hashing = false
    /// The dimension this field feeds, or -1.
    var dimension: Int8 = -1
    var enumStart: Int32 = 0
    var enumCount: Int32 = 0

    init() {}

    init(_ f: EventSchema.Field, dimension: Int?, enumStart: Int, hashing: Bool) {
        switch f.type {
        case .string: kind = .string
        case .enumeration: kind = .enumeration
        case .boolean: kind = .boolean
        case .integer: kind = .integer
        case .number: kind = .number
        }
        role = f.role
        self.hashing = hashing
        self.dimension = Int8(dimension ?? -1)
        self.enumStart = Int32(enumStart)
        self.enumCount = Int32(f.enumHashes.count)
    }

    /// The position of the enum value hashing to `hash`.
    @inline(__always)
    func enumIndex(of hash: UInt64, in hashes: [UInt64]) -> Int? {
        for k in 0..<Int(enumCount) where hashes[Int(enumStart) + k] == hash { return k }
        return nil
    }
}
