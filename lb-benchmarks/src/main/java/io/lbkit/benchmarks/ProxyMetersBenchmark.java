package io.lbkit.benchmarks;

import io.lbkit.core.Endpoint;
import io.lbkit.proxy.ProxyMeters;
import io.lbkit.proxy.engine.AccessRecord;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Recording one completed exchange in the proxy's meters ({@link ProxyMeters}), in the Prometheus
 * registry {@code serve} scrapes, as an engine does when an exchange ends: the record is filled
 * (one attempt, or a retry after a refused connection) and recorded. {@code timerOnly} is one
 * Micrometer timer's {@code record} in the same registry: what "nothing beyond Micrometer's
 * timers" is measured against. Run with {@code -prof gc} for B/op:
 * {@code java -jar lb-benchmarks/target/benchmarks.jar ProxyMetersBenchmark -prof gc}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@State(Scope.Thread)
public class ProxyMetersBenchmark {

    PrometheusMeterRegistry registry;
    ProxyMeters meters;
    AccessRecord record;
    Endpoint a;
    Endpoint b;
    Timer timer;
    long t;

    @Setup(Level.Trial)
    public void setUp() {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        meters = ProxyMeters.of(registry);
        record = new AccessRecord();
        a = Endpoint.builder("a").host("127.0.0.1").port(8001).build();
        b = Endpoint.builder("b").host("127.0.0.1").port(8002).build();
        timer = Timer.builder("bench.timer").register(registry);
    }

    /** One request, one attempt, 200. */
    @Benchmark
    public AccessRecord recordExchange() {
        long s = t += 1_000_000;
        AccessRecord r = record.begin("127.0.0.1", "GET", "/api/x", "HTTP/1.1", null, s);
        r.routed("api", "app");
        r.attemptStarted(b, s + 1_000);
        r.connected(s + 20_000);
        r.responseHead(200, s + 300_000);
        r.status(200);
        r.bodyBytes(512);
        r.end(s + 400_000);
        meters.record(r);
        return r;
    }

    /** One request retried after a refused connection, 200. */
    @Benchmark
    public AccessRecord recordRetriedExchange() {
        long s = t += 1_000_000;
        AccessRecord r = record.begin("127.0.0.1", "GET", "/api/x", "HTTP/1.1", null, s);
        r.routed("api", "app");
        r.attemptStarted(a, s + 1_000);
        r.attemptEnded(502, s + 5_000);
        r.attemptStarted(b, s + 6_000);
        r.connected(s + 20_000);
        r.responseHead(200, s + 300_000);
        r.status(200);
        r.bodyBytes(512);
        r.end(s + 400_000);
        meters.record(r);
        return r;
    }

    /** One Micrometer timer record, the floor. */
    @Benchmark
    public Timer timerOnly() {
        timer.record(400_000, TimeUnit.NANOSECONDS);
        return timer;
    }
}
