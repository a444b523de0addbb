package io.lbkit.session.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.limit.Decision;
import io.lbkit.core.limit.RateLimiter;
import io.lbkit.testing.RedisServers;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;
import org.redisson.config.ConstantDelay;

/**
 * The bucket kept in a real Redis: the same decisions as the in-process limiter (nginx's
 * arithmetic) for the same requests at the same times, one limit for two instances, and what
 * happens while Redis is down. Time is an injected clock wherever decisions are compared.
 */
class RedisRateLimiterIT {

    private static RedisServers.Server redis;
    private static RedissonClient client;

    @BeforeAll
    static void start() {
        redis = RedisServers.standalone();
        client = client(redis);
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.shutdown();
        }
        if (redis != null) {
            redis.close();
        }
    }

    private static RedissonClient client(RedisServers.Server server) {
        Config c = new Config();
        c.useSingleServer().setAddress(server.url()).setTimeout(500).setConnectTimeout(500).setRetryAttempts(0)
                .setRetryDelay(new ConstantDelay(Duration.ofMillis(50)))
                .setReconnectionDelay(new ConstantDelay(Duration.ofMillis(100)));
        return Redisson.create(c);
    }

    private static RateLimiter.Builder limit(String rate, int burst, boolean noDelay, int delay, AtomicLong nanos) {
        RateLimiter.Builder b = RateLimiter.builder().rate(rate).burst(burst).rejectStatus(429).ticker(nanos::get);
        return noDelay ? b.noDelay() : b.delay(delay);
    }

    private static Decision await(java.util.concurrent.CompletionStage<Decision> d) throws Exception {
        return d.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** A scripted run of 400 requests over three keys at random steps of 0 to 150 ms, decided both ways. */
    @ParameterizedTest(name = "rate={0} burst={1} nodelay={2} delay={3}")
    @CsvSource({"10r/s,0,false,0", "10r/s,5,true,0", "10r/s,5,false,0", "10r/s,10,false,4", "30r/m,3,false,1",
                "2r/s,4,true,0", "20r/s,1,false,0"})
    void decidesAsTheInProcessLimiterForTheSameRequestsAtTheSameTimes(String rate, int burst, boolean noDelay,
                                                                      int delay) throws Exception {
        AtomicLong nanos = new AtomicLong(TimeUnit.DAYS.toNanos(3));
        RateLimiter reference = limit(rate, burst, noDelay, delay, nanos).build();
        String zone = "diff-" + rate.replace('/', '_') + "-" + burst + "-" + noDelay + "-" + delay;
        RedisRateLimiter shared = RedisRateLimiter.builder(client, limit(rate, burst, noDelay, delay, nanos).build())
                .zone(zone).ticker(nanos::get).build();
        Random random = new Random(burst * 31L + delay);
        String[] keys = {"10.0.0.1", "10.0.0.2", "key-3"};
        int rejected = 0;
        int delayed = 0;
        for (int i = 0; i < 400; i++) {
            nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(random.nextInt(4) == 0 ? 0 : random.nextInt(151)));
            String key = keys[random.nextInt(keys.length)];
            Decision want = reference.tryAcquire(key);
            Decision got = await(shared.tryAcquire(key));
            assertEquals(want.toString(), got.toString(), "request " + i + " of " + key);
            rejected += want.isRejected() ? 1 : 0;
            delayed += want.isDelayed() ? 1 : 0;
        }
        assertTrue(rejected > 0 || delayed > 0, "the script reaches the limit: " + rejected + " rejected, " + delayed
                + " delayed");
        assertFalse(shared.isRedisDown());
    }

    /** Two instances (two Redis clients) share one bucket: together they admit what one limiter would. */
    @Test
    void twoInstancesEnforceOneLimit() throws Exception {
        AtomicLong nanos = new AtomicLong(TimeUnit.DAYS.toNanos(1));
        RedissonClient other = client(redis);
        try {
            RedisRateLimiter a = RedisRateLimiter.builder(client, limit("10r/s", 5, true, 0, nanos).build())
                    .zone("pair").ticker(nanos::get).build();
            RedisRateLimiter b = RedisRateLimiter.builder(other, limit("10r/s", 5, true, 0, nanos).build())
                    .zone("pair").ticker(nanos::get).build();
            int admitted = 0;
            for (int i = 0; i < 20; i++) {
                admitted += await((i % 2 == 0 ? a : b).tryAcquire("client")).isAllowed() ? 1 : 0;
            }
            assertEquals(6, admitted, "burst 5 nodelay: six at once, for the pair as for one nginx");
            nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(100));
            assertTrue(await(b.tryAcquire("client")).isAllowed(), "100 ms later, one more");
            Decision next = await(a.tryAcquire("client"));
            assertTrue(next.isRejected());
            assertEquals(429, next.status());
        } finally {
            other.shutdown();
        }
    }

    @Test
    void theServersClockIsUsedWithoutATickerAndKeysExpireWhenIdle() throws Exception {
        RateLimiter local = RateLimiter.builder().rate("1r/m").expireAfterIdle(Duration.ofSeconds(90)).build();
        RedisRateLimiter shared = RedisRateLimiter.builder(client, local).zone("server-clock").build();
        assertTrue(await(shared.tryAcquire("k")).isAllowed());
        Decision second = await(shared.tryAcquire("k"));
        assertTrue(second.isRejected(), "1r/m, no burst: the second at once is refused");
        assertEquals(503, second.status(), "nginx's default status");
        long ttl = Long.parseLong(redis.cli("PTTL", "lbkit:limit:server-clock:k").trim());
        assertTrue(ttl > 0 && ttl <= 90_000, "PTTL " + ttl);
        assertTrue(await(shared.tryAcquire("")).isAllowed(), "an empty key is not limited");
        assertTrue(await(shared.tryAcquire(null)).isAllowed(), "nor a null one");
    }

    /**
     * Redis stopped: with failOpen the local bucket decides (it limits: it is not "allow all"), the
     * outage is flagged, and the shared bucket decides again once Redis is back; without failOpen
     * the request is refused with 503.
     */
    @Test
    void whileRedisIsDownTheLocalBucketDecidesOrTheRequestIsRefused() throws Exception {
        try (RedisServers.ProcessServer down = RedisServers.process()) {
            RedissonClient c = client(down);
            try {
                RedisRateLimiter open = RedisRateLimiter.builder(c, RateLimiter.builder().rate("1r/m").build())
                        .zone("outage").build();
                RedisRateLimiter closed = RedisRateLimiter.builder(c, RateLimiter.builder().rate("1r/m").build())
                        .zone("outage-closed").failOpen(false).build();
                assertTrue(await(open.tryAcquire("k")).isAllowed());
                assertTrue(await(open.tryAcquire("k")).isRejected(), "the shared bucket");
                down.kill();
                assertTrue(await(open.tryAcquire("k")).isAllowed(), "the local bucket has not seen k yet");
                assertTrue(open.isRedisDown());
                Decision local = await(open.tryAcquire("k"));
                assertTrue(local.isRejected(), "the local bucket limits too");
                Decision refused = await(closed.tryAcquire("k"));
                assertEquals(RedisRateLimiter.UNCHECKED_STATUS, refused.status(), "failOpen false: " + refused);
                down.start();
                assertTrue(RedisServers.await(30_000, () -> {
                    try {
                        await(open.tryAcquire("other"));
                        return !open.isRedisDown();
                    } catch (Exception e) {
                        return false;
                    }
                }), "Redis decides again after the restart");
                Decision again = await(closed.tryAcquire("fresh"));
                assertTrue(again.isAllowed(), "failOpen false, Redis back: " + again);
            } finally {
                c.shutdown();
            }
        }
    }

    @Test
    void theBuilderNamesABadZone() {
        RateLimiter local = RateLimiter.builder().rate("1r/s").build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RedisRateLimiter.builder(client, local).zone("a b").build());
        assertEquals("zone must be a name of letters, digits and -_., got 'a b'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RedisRateLimiter.builder(client, local).build());
        assertEquals("zone must be a name of letters, digits and -_., got none", e.getMessage());
    }
}
