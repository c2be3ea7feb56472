/// RFC 7386 JSON Merge Patch: the delta format of every stream. Objects merge member by
/// member, `null` deletes a member, anything else replaces. Frames never hold `null` values
/// (a missing value is an absent key), so every frame change is expressible as a patch.
public enum JSONMergePatch {
    /// The patch turning `old` into `new`, or nil when they are equal.
    public static func diff(_ old: JSONValue, _ new: JSONValue) -> JSONValue? {
        guard case .object(let newMembers) = new, case .object(let oldMembers) = old else {
            return old == new ? nil : new
        }
        let oldIndex = Dictionary(oldMembers, uniquingKeysWith: { a, _ in a })
        var patch: [(String, JSONValue)] = []
        var present = Set<String>()
        for (k, v) in newMembers {
            present.insert(k)
            if let o = oldIndex[k] {
                if let d = diff(o, v) { patch.append((k, d)) }
            } else {
                patch.append((k, v))
            }
        }
        for (k, _) in oldMembers where !present.contains(k) { patch.append((k, .null)) }
        return patch.isEmpty ? nil : .object(patch)
    }

    /// Applies `patch` to `target` (RFC 7386 section 2).
    public static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var members: [(String, JSONValue)] = []
        if case .object(let t) = target { members = t }
        for (k, v) in patchMembers {
            let i = members.firstIndex { $0.0 == k }
            if case .null = v {
                if let i { members.remove(at: i) }
            } else if let i {
                members[i].1 = apply(v, to: members[i].1)
            } else {
                members.append((k, apply(v, to: .null)))
            }
        }
        return .object(members)
    }
}
