package io.lbkit.benchmarks;

import io.lbkit.core.limit.Decision;
import io.lbkit.core.limit.RateLimiter;
import io.lbkit.session.redis.RedisRateLimiter;
import java.time.Duration;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.redisson.Redisson;
import org.redisson.api.RBucket;
import org.redisson.api.RRateLimiter;
import org.redisson.api.RateType;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.Config;

/**
 * One rate-limit decision, in this process and through Redis, with peers in the same run:
 * <ul>
 *   <li>{@code local}: lb-core's {@link RateLimiter} (nginx's {@code limit_req}), in nanoseconds;</li>
 *   <li>{@code redisRoundTrip}: a plain GET through the same Redisson client, the floor of any
 *       decision kept in Redis;</li>
 *   <li>{@code lbkitShared}: {@link RedisRateLimiter}, one Lua script per decision;</li>
 *   <li>{@code redissonRateLimiter}: Redisson's own {@code RRateLimiter.tryAcquire()}.</li>
 * </ul>
 * The limits are high enough that every decision is "allowed", so each call does the full update.
 * Redis: {@code -Dredis.url}, else a {@code redis-server} started on a free loopback port.
 *
 * <p>Run: {@code java -jar lb-benchmarks/target/benchmarks.jar RateLimitBenchmark -prof gc}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class RateLimitBenchmark {

    /** An in-process limit: one key, always allowed. */
    @State(Scope.Benchmark)
    public static class Local {
        RateLimiter limiter;

        @Setup(Level.Trial)
        public void setUp() {
            limiter = RateLimiter.builder().rate("1000000r/s").burst(1_000_000).noDelay().build();
        }
    }

    /** The shared limits and the plain round trip, on one Redisson client. */
    @State(Scope.Benchmark)
    public static class Redis {
        BenchRedis server;
        RedissonClient client;
        RedisRateLimiter shared;
        RRateLimiter redisson;
        RBucket<String> plain;

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            server = BenchRedis.open("RateLimitBenchmark");
            Config c = new Config();
            c.setCodec(StringCodec.INSTANCE);
            c.useSingleServer().setAddress(server.url());
            client = Redisson.create(c);
            shared = RedisRateLimiter.builder(client,
                    RateLimiter.builder().rate("1000000r/s").burst(1_000_000).noDelay().build()).zone("bench").build();
            redisson = client.getRateLimiter("bench:redisson");
            redisson.trySetRate(RateType.OVERALL, 1_000_000_000L, Duration.ofSeconds(1));
            plain = client.getBucket("bench:plain");
            plain.set("v");
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            if (client != null) {
                client.shutdown();
            }
            if (server != null) {
                server.close();
            }
        }
    }

    @Benchmark
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public Decision local(Local l) {
        return l.limiter.tryAcquire("10.0.0.1");
    }

    @Benchmark
    public String redisRoundTrip(Redis r) {
        return r.plain.get();
    }

    @Benchmark
    public Decision lbkitShared(Redis r) {
        return r.shared.tryAcquire("10.0.0.1").toCompletableFuture().join();
    }

    @Benchmark
    public boolean redissonRateLimiter(Redis r) {
        return r.redisson.tryAcquire();
    }
}
