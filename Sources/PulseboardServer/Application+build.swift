import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import PulseboardCore
import PulseboardEngine
import ServiceLifecycle

/// Options that are not configuration keys.
public struct ServeOptions: Sendable {
    /// Run the built-in traffic generator.
    public var demo = false
    public init(demo: Bool = false) { self.demo = demo }
}

/// Builds the Pulseboard application: journal, ingestor, services and routes. Used by
/// `pulseboard serve` and by the tests.
///
/// ```swift
/// let config = try ConfigurationLoader().load(file: "config/pulseboard.json", fileRequired: false)
/// let app = try buildApplication(configuration: config, options: .init(demo: true), logger: logger)
/// try await app.runService()
/// ```
public func buildApplication(
    configuration: PulseboardConfiguration, options: ServeOptions = .init(), clock: any WallClock = SystemClock(), logger: Logger
) throws -> some ApplicationProtocol {
    try configuration.validate()
    let telemetry = Telemetry()
    let lock = try DataDirectoryLock(directory: configuration.paths.dataDir)
    let history = try HistoryOpener.open(configuration, logger: logger)
    let benchmarks = try BenchmarksLoader.load(path: configuration.benchmarksFile)
    let alertRules = try AlertRulesLoader.load(
        path: configuration.alerts.rulesFile, dimensions: configuration.aggregation.dimensions,
        maxKPIDays: configuration.history.dayRetentionDays)
    let alerts = try AlertLog(path: configuration.paths.dataDir + "/alerts.ndjson", limit: configuration.alerts.historyLimit)
    let journal = try Journal(
        directory: configuration.paths.dataDir + "/journal", configuration: configuration.journal, telemetry: telemetry, logger: logger)
    let ingestor = Ingestor(
        configuration: configuration.ingest, aggregation: configuration.aggregation, journal: journal,
        telemetry: telemetry, clock: clock, history: history, logger: logger)
    let authorizer = Authorizer(keys: configuration.apiKeys)
    let dashboards = DashboardStore(directory: configuration.paths.dashboards, dimensions: configuration.aggregation.dimensions, logger: logger)
    dashboards.load()

    let router = Router(context: PulseboardRequestContext.self)
    router.add(middleware: AllowedOriginsMiddleware(origins: configuration.server.corsAllowedOrigins))
    router.add(middleware: JSONErrorMiddleware())
    router.add(middleware: FileMiddleware(configuration.paths.publicDir, searchForIndexHtml: true, logger: logger))
    IngestController(
        ingestor: ingestor, authorizer: authorizer, maxBodyBytes: configuration.ingest.limits.maxBodyBytes,
        durable: configuration.journal.writePolicy == .durable
    ).addRoutes(to: router)
    MetricsController(ingestor: ingestor, authorizer: authorizer, dimensions: configuration.aggregation.dimensions).addRoutes(to: router)
    let hub = Hub(configuration: configuration.push, ingestor: ingestor, telemetry: telemetry, benchmarks: benchmarks, alerts: alerts)
    AlertsController(log: alerts, configuration: alertRules, authorizer: authorizer).addRoutes(to: router)
    ReportsController(history: history, ingestor: ingestor, authorizer: authorizer).addRoutes(to: router)
    HistoryController(history: history, ingestor: ingestor, hub: hub, authorizer: authorizer, dimensions: configuration.aggregation.dimensions, lock: lock)
        .addRoutes(to: router)
    OperationsController(ingestor: ingestor, hub: hub).addRoutes(to: router)
    DashboardsController(store: dashboards, ingestor: ingestor, hub: hub, authorizer: authorizer).addRoutes(to: router)
    StreamController(hub: hub, store: dashboards, authorizer: authorizer, telemetry: telemetry).addRoutes(to: router)
    PagesController(publicDir: configuration.paths.publicDir).addRoutes(to: router)
    let endpoints = PushEndpoints(
        hub: hub, store: dashboards, authorizer: authorizer, telemetry: telemetry,
        corsOrigins: Set(configuration.server.corsAllowedOrigins), maxConnections: configuration.server.maxConnections,
        queries: LiveQueryEndpoint(ingestor: ingestor, authorizer: authorizer, corsOrigins: Set(configuration.server.corsAllowedOrigins)),
        // The durable policy waits for an fsync per batch: that wait belongs in a task.
        ingest: configuration.journal.writePolicy == .durable
            ? nil
            : IngestEndpoint(
                ingestor: ingestor, authorizer: authorizer, corsOrigins: Set(configuration.server.corsAllowedOrigins),
                maxBodyBytes: min(configuration.ingest.limits.maxBodyBytes, IngestEndpoint.loopBodyLimit)))
    let gate = ConnectionGate(limit: configuration.server.maxConnections)

    var services: [any Service] = [
        JournalService(
            ingestor: ingestor,
            replayHorizonSeconds: max(Aggregator.maxWindowSeconds, configuration.ingest.dedupHorizonSeconds),
            checkpointPath: configuration.paths.dataDir + "/" + WindowCheckpoint.fileName, logger: logger)
    ]
    services.append(HistoryFlushService(history: history, ingestor: ingestor, logger: logger))
    services.append(HubService(hub: hub))
    services.append(AlertService(
        configuration: alertRules, log: alerts, hub: hub, ingestor: ingestor, intervalMs: configuration.alerts.evaluateIntervalMs, logger: logger))
    services.append(DashboardReloadService(store: dashboards, hub: hub, logger: logger))
    if options.demo {
        services.append(DemoTrafficService(
            ingestor: ingestor, configuration: configuration.demo, historyDays: configuration.demoHistoryDays, logger: logger))
    }
    logger.info("pulseboard configured", metadata: [
        "host": "\(configuration.server.host)", "port": "\(configuration.server.port)",
        "data_dir": "\(configuration.paths.dataDir)", "write_policy": "\(configuration.journal.writePolicy.rawValue)",
        "auth": "\(authorizer.isEnabled ? "\(configuration.apiKeys.count) keys" : "off")", "demo": "\(options.demo)",
    ])
    return Application(
        router: router,
        // Streams stay in NIO (PushRouter); everything else is Hummingbird's HTTP/1.1.
        server: HTTPServerBuilder { responder in
            PushChildChannel(inner: HTTP1Channel(responder: responder), endpoints: endpoints, gate: gate)
        },
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.server.host, port: configuration.server.port),
            serverName: "pulseboard",
            backlog: configuration.server.backlog,
            // Past max_connections a connection is answered 503; past this, it waits in the
            // backlog, so the process never runs out of file descriptors.
            availableConnectionsDelegate: MaximumAvailableConnections(configuration.server.maxConnections + ConnectionGate.refusalHeadroom)),
        services: services,
        logger: logger)
}
