/// One hot path of the server, set up once (in `init`) and then exercised one operation at a
/// time. The package-benchmark suite measures `run()` for wall clock, throughput and malloc
/// counts; `micro-workload` runs it under callgrind for instruction and malloc counts. Both drive the
/// same class, so the two sets of thresholds always describe the same code.
///
/// Every workload is deterministic: fixed seeds, a fixed clock, steady-state data (warmed up
/// in `init`), so the same operation sequence allocates the same and runs the same
/// instructions in every run.
public protocol MicroWorkload: AnyObject {
    /// Whether `prepare()` does anything (false by default).
    var prepares: Bool { get }
    /// Work before each operation that is not part of the measurement (nothing by default).
    func prepare()
    /// One operation: the thing measured.
    func run()
}

extension MicroWorkload {
    public var prepares: Bool { false }
    public func prepare() {}
}

/// The workloads by name: the benchmark names, the keys of `Thresholds/instructions.json`
/// and the argument of `micro-workload`.
public enum MicroWorkloads {
    public static let decode = "decode_validate_100"
    public static let windowInsert = "window_insert_100"
    public static let frameDelta = "frame_delta_encode"
    public static let hubPublish = "hub_publish_10k"

    /// Every workload name, in report order.
    public static let names = [decode, windowInsert, frameDelta, hubPublish]

    /// A freshly set-up workload called `name`, or nil for an unknown name.
    public static func make(_ name: String) -> (any MicroWorkload)? {
        switch name {
        case decode: DecodeWorkload()
        case windowInsert: WindowInsertWorkload()
        case frameDelta: FrameDeltaWorkload()
        case hubPublish: HubPublishWorkload()
        default: nil
        }
    }
}
