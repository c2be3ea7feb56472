import Foundation
import PulseboardCore
import Testing

@Suite struct DashboardSpecTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let valid = """
        {
          "id": "t",
          "title": "Test",
          "variables": { "org_id": { "default": "any", "values": ["acme", "globex"] } },
          "layout": { "columns": 12, "positions": { "users": { "x": 0, "y": 0, "w": 3, "h": 2 } } },
          "widgets": [
            { "id": "users", "type": "stat", "query": { "metric": "active_users", "window": "5m", "filter": "org_id:$org_id" } },
            { "id": "rate", "type": "timeseries", "query": { "metric": "messages_per_sec", "window": "1m" } }
          ]
        }
        """

    func parse(_ text: String) -> Result<DashboardSpec, SpecErrors> {
        DashboardSpecParser().parse(Array(text.utf8), fileId: "t")
    }

    @Test func shippedDashboardsAreValid() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: DashboardSpecTests.repo.path + "/dashboards")
            .filter { $0.hasSuffix(".json") && $0 != "schema.json" }
        #expect(Set(files).isSuperset(of: ["engagement.json", "ai-performance.json", "wallboard.json"]))
        for f in files {
            let bytes = try Array(Data(contentsOf: DashboardSpecTests.repo.appendingPathComponent("dashboards/" + f)))
            let result = DashboardSpecParser().parse(bytes, fileId: String(f.dropLast(5)))
            if case .failure(let e) = result { Issue.record("\(f): \(e.errors)") }
        }
    }

    @Test func validSpecParses() throws {
        let spec = try parse(DashboardSpecTests.valid).get()
        #expect(spec.refreshMs == 1000)
        #expect(spec.widgets.map(\.id) == ["users", "rate"])
        #expect(spec.widgets[0].position == .init(x: 0, y: 0, w: 3, h: 2))
        #expect(spec.widgets[0].unit == "users")
        #expect(try spec.resolve([:]) == ["org_id": "any"])
        #expect(throws: SpecError.self) { try spec.resolve(["org_id": "initech"]) }
        #expect(throws: SpecError.self) { try spec.resolve(["team": "x"]) }
        let q = spec.metricQuery(spec.widgets[0].query!, variables: ["org_id": "acme"])
        #expect(q.filter == .init(key: "org_id", value: "acme"))
        #expect(spec.metricQuery(spec.widgets[0].query!, variables: ["org_id": "any"]).filter == nil)
    }

    /// Each mutation of the valid spec yields an error at the given path, with what is allowed.
    @Test(arguments: [
        (#""window": "5m", "filter""#, #""window": "30d", "filter""#, "$.widgets[0].query.window", "longer than the live windows keep"),
        (#""metric": "active_users""#, #""metric": "happiness""#, "$.widgets[0].query.metric", "unknown metric 'happiness'; one of events"),
        (#""id": "rate""#, #""id": "users""#, "$.widgets[1].id", "duplicate widget id 'users'"),
        (#""type": "timeseries""#, #""type": "pie""#, "$.widgets[1].type", "unknown widget type 'pie'; one of stat"),
        (#""positions": { "users""#, #""positions": { "nobody""#, "$.layout.positions.nobody", "refers to widget 'nobody', which does not exist"),
        (#""org_id:$org_id""#, #""org_id:$team""#, "$.widgets[0].query.filter", "refers to variable $team, which is not declared"),
        (#""org_id:$org_id""#, #""shoe_size:9""#, "$.widgets[0].query.filter", "cannot filter on 'shoe_size'"),
        (#""title": "Test""#, #""title": "Test", "colour": 1"#, "$.colour", "unknown key 'colour'; allowed keys are"),
        (#""window": "1m""#, #""window": "1m", "group_by": "model_used", "agg": "p95""#, "$.widgets[1].query.agg", "messages_per_sec takes one of value"),
        (#""default": "any""#, #""default": "initech""#, "$.variables.org_id.default", "'initech' is not among the allowed values"),
        (#""id": "t""#, #""id": "other""#, "$.id", "does not match the file name 't.json'"),
        (#""type": "stat""#, #""type": "bar""#, "$.widgets[0].query.group_by", "a bar widget needs group_by"),
        (#""w": 3"#, #""w": 13"#, "$.widgets[0]", "wider than the layout's 12 columns"),
        (#""type": "timeseries""#, #""type": "alert_list""#, "$.widgets[1].query", "alert_list widgets take no query"),
    ])
    func errorsNameThePathAndWhatIsAllowed(find: String, replace: String, path: String, message: String) throws {
        let text = DashboardSpecTests.valid.replacingOccurrences(of: find, with: replace)
        #expect(text != DashboardSpecTests.valid)
        guard case .failure(let e) = parse(text) else { Issue.record("expected an error at \(path)"); return }
        let match = e.errors.first { $0.path == path }
        #expect(match != nil, "errors: \(e.errors)")
        #expect(match?.message.contains(message) == true, "\(String(describing: match?.message))")
        #expect((match?.line ?? 0) > 0)
    }

    @Test func lineAndColumnPointAtTheValue() throws {
        guard case .failure(let e) = parse(DashboardSpecTests.valid.replacingOccurrences(of: #""window": "5m""#, with: #""window": "2d""#)) else {
            Issue.record("expected an error"); return
        }
        let error = try #require(e.errors.first)
        let lines = DashboardSpecTests.valid.split(separator: "\n", omittingEmptySubsequences: false)
        let line = String(lines[error.line - 1])
        let column = line.distance(from: line.startIndex, to: line.range(of: #""5m""#)!.lowerBound) + 1
        #expect(error.line == 7)
        #expect(error.column == column)
    }

    @Test func everyErrorIsReportedAtOnce() {
        let text = #"{"id": "t", "widgets": [{"id": "a", "type": "nope"}, {"id": "b", "type": "stat"}], "refresh_ms": 5}"#
        guard case .failure(let e) = parse(text) else { Issue.record("expected errors"); return }
        #expect(Set(e.errors.map(\.path)) == ["$.title", "$.refresh_ms", "$.widgets[0].type", "$.widgets[1].query"])
    }

    @Test func malformedJSONHasAPosition() {
        guard case .failure(let e) = parse("{\n  \"id\": \"t\",\n  \"title\": \n}") else { Issue.record("expected an error"); return }
        #expect(e.errors.count == 1)
        #expect(e.errors[0].path == "$")
        #expect(e.errors[0].line == 4)
        #expect(e.errors[0].message.hasPrefix("malformed JSON"))
    }
}

@Suite struct JSONMergePatchTests {
    /// RFC 7386, Appendix A.
    @Test(arguments: [
        (#"{"a":"b"}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"b"}"#, #"{"b":"c"}"#, #"{"a":"b","b":"c"}"#),
        (#"{"a":"b"}"#, #"{"a":null}"#, #"{}"#),
        (#"{"a":"b","b":"c"}"#, #"{"a":null}"#, #"{"b":"c"}"#),
        (#"{"a":["b"]}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"c"}"#, #"{"a":["b"]}"#, #"{"a":["b"]}"#),
        (#"{"a":{"b":"c"}}"#, #"{"a":{"b":"d","c":null}}"#, #"{"a":{"b":"d"}}"#),
        (#"{"a":[{"b":"c"}]}"#, #"{"a":[1]}"#, #"{"a":[1]}"#),
        (#"["a","b"]"#, #"["c","d"]"#, #"["c","d"]"#),
        (#"{"a":"b"}"#, #"["c"]"#, #"["c"]"#),
        (#"{"a":"foo"}"#, "null", "null"),
        (#"{"a":"foo"}"#, #""bar""#, #""bar""#),
        (#"{"e":null}"#, #"{"a":1}"#, #"{"e":null,"a":1}"#),
        (#"[1,2]"#, #"{"a":"b","c":null}"#, #"{"a":"b"}"#),
        ("{}", #"{"a":{"bb":{"ccc":null}}}"#, #"{"a":{"bb":{}}}"#),
    ])
    func appliesTheRFCExamples(target: String, patch: String, result: String) throws {
        #expect(JSONMergePatch.apply(try JSONValue.parse(patch), to: try JSONValue.parse(target)) == (try JSONValue.parse(result)))
    }

    static func randomFrame(_ rng: inout SplitMix64, depth: Int = 0) -> JSONValue {
        var members: [(String, JSONValue)] = []
        for k in 0..<Int(rng.next() % 6) {
            let key = "k\(rng.next() % 8)-\(k)"
            switch rng.next() % (depth < 3 ? 4 : 3) {
            case 0: members.append((key, .number(Double(rng.next() % 5))))
            case 1: members.append((key, .string(["a", "b"][Int(rng.next() % 2)])))
            case 2: members.append((key, .array([.number(Double(rng.next() % 3))])))
            default: members.append((key, randomFrame(&rng, depth: depth + 1)))
            }
        }
        return .object(members)
    }

    @Test func diffThenApplyReproducesTheNewFrame() {
        var rng = SplitMix64(seed: 5)
        for _ in 0..<2000 {
            let a = JSONMergePatchTests.randomFrame(&rng)
            let b = JSONMergePatchTests.randomFrame(&rng)
            let patch = JSONMergePatch.diff(a, b)
            #expect(JSONMergePatch.apply(patch ?? .object([]), to: a) == b)
            #expect((patch == nil) == (a == b))
        }
    }
}
