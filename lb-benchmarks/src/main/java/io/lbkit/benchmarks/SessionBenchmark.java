package io.lbkit.benchmarks;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.lbkit.session.InMemorySessionStore;
import io.lbkit.session.Session;
import io.lbkit.session.SessionChanges;
import io.lbkit.session.redis.RedisSessionStore;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
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
import org.redisson.api.BatchOptions;
import org.redisson.api.RBatch;
import org.redisson.api.RMap;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.Config;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.RedisTemplate;
import org.springframework.data.redis.serializer.StringRedisSerializer;
import org.springframework.session.MapSession;
import org.springframework.session.MapSessionRepository;
import org.springframework.session.data.redis.RedisSessionRepository;

/**
 * Session load and save, lbkit against Spring Session in the same run. Every request touches one
 * session of 8 small attributes and changes one of them.
 *
 * <ul>
 *   <li>In memory (no server needed, state {@link Memory}): lbkit's {@link InMemorySessionStore}
 *       (load, save, load+save) against Spring Session's {@code MapSessionRepository} on a
 *       {@code ConcurrentHashMap} (findById, save, findById+save).</li>
 *   <li>Redis (state {@link Redis}): lbkit's {@link RedisSessionStore} (load, save, load+save,
 *       near-cache hit) against Spring Session's {@code RedisSessionRepository} on Lettuce
 *       (findById + save) and raw Redisson map operations as the floor (HGETALL, then HSET +
 *       PEXPIRE in one batch: two round trips).</li>
 * </ul>
 *
 * <p>The Redis benchmarks need a Redis: {@code -Dredis.url=redis://127.0.0.1:6379} (nothing is
 * flushed; keys use their own prefixes), else a {@code redis-server} from the PATH is started on a
 * free loopback port. Round trips per request are measured once per trial from
 * {@code INFO commandstats} (scripts for lbkit; commands for the peers, which use no scripts)
 * and printed.
 *
 * <p>Run: {@code java -jar lb-benchmarks/target/benchmarks.jar SessionBenchmark -f 1 -wi 1 -i 1};
 * only the in-memory ones: {@code SessionBenchmark.memory|SessionBenchmark.springMap}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class SessionBenchmark {

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** The 8 attributes every benchmarked session starts with. */
    static Map<String, com.fasterxml.jackson.databind.JsonNode> attributes() {
        Map<String, com.fasterxml.jackson.databind.JsonNode> attrs = new HashMap<>();
        for (int i = 0; i < 8; i++) {
            attrs.put("attr" + i, F.textNode("value-" + i + "-" + "x".repeat(20)));
        }
        return attrs;
    }

    /**
     * In-memory stores: lbkit's and Spring Session's {@code MapSessionRepository}, each holding
     * one session of the same 8 attributes, with the same 24 h idle timeout.
     */
    @State(Scope.Benchmark)
    public static class Memory {
        private InMemorySessionStore store;
        private String id;
        private SessionChanges change;
        private MapSessionRepository spring;
        private String springId;
        private MapSession springCopy;
        private long counter;

        @Setup(Level.Trial)
        public void setUp() {
            store = InMemorySessionStore.builder().build();
            id = store.create(attributes()).id();
            change = SessionChanges.builder().set("attr0", F.numberNode(1)).build();
            spring = new MapSessionRepository(new ConcurrentHashMap<>());
            spring.setDefaultMaxInactiveInterval(Duration.ofHours(24));
            MapSession s = spring.createSession();
            attributes().forEach((k, v) -> s.setAttribute(k, v.asText()));
            spring.save(s);
            springId = s.getId();
            springCopy = spring.findById(springId);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            store.close();
        }
    }

    @Benchmark
    public Optional<Session> memoryLoad(Memory m) {
        return m.store.load(m.id);
    }

    @Benchmark
    public Optional<Session> memorySave(Memory m) {
        return m.store.save(m.id, m.change);
    }

    @Benchmark
    public Optional<Session> memoryLoadSave(Memory m) {
        m.store.load(m.id);
        return m.store.save(m.id, m.change);
    }

    @Benchmark
    public MapSession springMapFindById(Memory m) {
        return m.spring.findById(m.springId);
    }

    @Benchmark
    public MapSession springMapSave(Memory m) {
        // the request's copy (what findById hands out), changed and written back
        MapSession s = m.springCopy;
        s.setAttribute("attr0", Long.toString(m.counter++));
        m.spring.save(s);
        return s;
    }

    @Benchmark
    public MapSession springMapFindByIdSave(Memory m) {
        MapSession s = m.spring.findById(m.springId);
        s.setAttribute("attr0", Long.toString(m.counter++));
        m.spring.save(s);
        return s;
    }

    /** Redis stores and peers; starts its own redis-server unless {@code -Dredis.url} is given. */
    @State(Scope.Benchmark)
    public static class Redis {

        private BenchRedis server;
        private String host;
        private int port;

        private RedisSessionStore store;
        private RedisSessionStore nearStore;
        private boolean withNearStore;
        private String id;
        private String nearId;
        private SessionChanges change;

        private LettuceConnectionFactory lettuce;
        /** Spring's repository through its public interface (its session class is package-private). */
        @SuppressWarnings("rawtypes")
        private org.springframework.session.SessionRepository spring;
        private String springId;

        private RedissonClient redisson;
        private RMap<String, String> floorMap;

        private long counter;

        @Setup(Level.Trial)
        @SuppressWarnings("unchecked")
        public void setUp(org.openjdk.jmh.infra.BenchmarkParams params) throws Exception {
            // the near-cache store subscribes to invalidations: every other benchmark's saves would
            // make it decode messages in this JVM, work the peers do not have, so it exists only
            // for its own benchmark
            start(params.getBenchmark().endsWith("lbkitNearCacheHit"));
        }

        /** Starts Redis and the stores; also used by {@link SessionInterleaved}. */
        void start(boolean nearStore) throws Exception {
            withNearStore = nearStore;
            try {
                init();
            } catch (Exception | Error e) {
                tearDown(); // JMH does not call tear-down after a failed set-up: stop our redis-server
                throw e;
            }
        }

        @SuppressWarnings("unchecked")
        private void init() throws Exception {
            server = BenchRedis.open("SessionBenchmark");
            String url = server.url();
            host = server.host();
            port = server.port();
            Map<String, com.fasterxml.jackson.databind.JsonNode> attrs = attributes();
            store = RedisSessionStore.builder().uri(url).build();
            id = store.create(attrs).id();
            if (withNearStore) {
                nearStore = RedisSessionStore.builder().uri(url).nearCache(true).build();
                nearId = nearStore.create(attrs).id();
                nearStore.load(nearId);
            }
            change = SessionChanges.builder().set("attr0", F.numberNode(1)).build();

            lettuce = new LettuceConnectionFactory(new RedisStandaloneConfiguration(host, port));
            lettuce.afterPropertiesSet();
            lettuce.start();
            RedisTemplate<String, Object> template = new RedisTemplate<>();
            template.setConnectionFactory(lettuce);
            template.setKeySerializer(new StringRedisSerializer());
            template.setHashKeySerializer(new StringRedisSerializer());
            template.afterPropertiesSet();
            RedisSessionRepository repository = new RedisSessionRepository(template);
            repository.setDefaultMaxInactiveInterval(Duration.ofHours(24));
            spring = repository;
            org.springframework.session.Session springSession = spring.createSession();
            attrs.forEach((k, v) -> springSession.setAttribute(k, v.asText()));
            spring.save(springSession);
            springId = springSession.getId();

            Config config = new Config();
            config.setCodec(StringCodec.INSTANCE);
            config.useSingleServer().setAddress(url);
            redisson = Redisson.create(config);
            floorMap = redisson.getMap("bench:floor:{1}", StringCodec.INSTANCE);
            Map<String, String> raw = new HashMap<>();
            attrs.forEach((k, v) -> raw.put(k, v.toString()));
            floorMap.putAll(raw);
            floorMap.expire(Duration.ofHours(24));

            reportRoundTrips();
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            for (AutoCloseable c : new AutoCloseable[] {store, nearStore, lettuce == null ? null : lettuce::destroy,
                    redisson == null ? null : redisson::shutdown}) {
                if (c != null) {
                    try {
                        c.close();
                    } catch (Exception e) {
                        // keep going: the redis-server below must stop
                    }
                }
            }
            if (server != null) {
                server.close();
            }
        }

        Optional<Session> load() {
            return store.load(id);
        }

        Optional<Session> save() {
            return store.save(id, change);
        }

        Optional<Session> loadSave() {
            store.load(id);
            return store.save(id, change);
        }

        /** A request through the session filter: load at the start, update (no read-back) at the end. */
        java.util.OptionalLong loadUpdate() {
            store.load(id);
            return store.update(id, change);
        }

        Optional<Session> nearCacheHit() {
            return nearStore.load(nearId);
        }

        @SuppressWarnings("unchecked")
        Object springFindByIdSave() {
            org.springframework.session.Session s = spring.findById(springId);
            s.setAttribute("attr0", Long.toString(counter++));
            spring.save(s);
            return s;
        }

        Object redissonFloorLoadSave() {
            Map<String, String> all = floorMap.readAllMap();
            RBatch batch = redisson.createBatch(BatchOptions.defaults());
            batch.<String, String>getMap("bench:floor:{1}", StringCodec.INSTANCE).fastPutAsync("attr0", Long.toString(counter++));
            batch.getMap("bench:floor:{1}", StringCodec.INSTANCE).expireAsync(Duration.ofHours(24));
            batch.execute();
            return all;
        }

        /** Commands or scripts per request, from INFO commandstats around 200 requests of each kind. */
        private void reportRoundTrips() {
            int n = 200;
            record Probe(String name, Runnable op, boolean scripts) { }
            List<Probe> probes = new java.util.ArrayList<>(List.of(
                    new Probe("lbkit load", this::load, true),
                    new Probe("lbkit save", this::save, true),
                    new Probe("lbkit load+save", this::loadSave, true),
                    new Probe("lbkit load+update", this::loadUpdate, true),
                    new Probe("spring findById+save", this::springFindByIdSave, false),
                    new Probe("redisson floor load+save", this::redissonFloorLoadSave, false)));
            if (nearStore != null) {
                probes.add(3, new Probe("lbkit near-cache hit", this::nearCacheHit, true));
            }
            for (Probe p : probes) {
                Map<String, Long> before = commandStats();
                for (int i = 0; i < n; i++) {
                    p.op().run();
                }
                Map<String, Long> after = commandStats();
                long scripts = delta(before, after, "evalsha") + delta(before, after, "eval");
                long all = 0;
                for (String k : after.keySet()) {
                    if (!k.equals("info")) {
                        all += delta(before, after, k);
                    }
                }
                if (p.scripts()) {
                    // Redis counts the commands a script runs too: the breakdown shows them all
                    StringBuilder per = new StringBuilder();
                    after.keySet().stream().sorted().filter(k -> !k.equals("info") && delta(before, after, k) > 0)
                            .forEach(k -> per.append(String.format(" %s %.2f", k, delta(before, after, k) / (double) n)));
                    System.out.printf("# round trips per request, %s: %.2f scripts (commands, scripts' own included:%s)%n",
                            p.name(), scripts / (double) n, per);
                } else {
                    System.out.printf("# round trips per request, %s: %.2f commands (no scripts; a batch sends several in one round trip)%n",
                            p.name(), all / (double) n);
                }
            }
        }

        private static long delta(Map<String, Long> before, Map<String, Long> after, String cmd) {
            return after.getOrDefault(cmd, 0L) - before.getOrDefault(cmd, 0L);
        }

        private Map<String, Long> commandStats() {
            String text = server.cli("INFO", "commandstats");
            Map<String, Long> m = new HashMap<>();
            for (String line : text.split("\n")) {
                line = line.trim();
                if (!line.startsWith("cmdstat_")) {
                    continue;
                }
                String name = line.substring("cmdstat_".length(), line.indexOf(':'));
                int c = line.indexOf("calls=");
                int end = line.indexOf(',', c);
                m.put(name, Long.parseLong(line.substring(c + 6, end)));
            }
            return m;
        }

        }

    @Benchmark
    public Optional<Session> lbkitLoad(Redis r) {
        return r.load();
    }

    @Benchmark
    public Optional<Session> lbkitSave(Redis r) {
        return r.save();
    }

    @Benchmark
    public Optional<Session> lbkitLoadSave(Redis r) {
        return r.loadSave();
    }

    @Benchmark
    public java.util.OptionalLong lbkitLoadUpdate(Redis r) {
        return r.loadUpdate();
    }

    @Benchmark
    public Optional<Session> lbkitNearCacheHit(Redis r) {
        return r.nearCacheHit();
    }

    @Benchmark
    public Object springFindByIdSave(Redis r) {
        return r.springFindByIdSave();
    }

    @Benchmark
    public Object redissonFloorLoadSave(Redis r) {
        return r.redissonFloorLoadSave();
    }
}
