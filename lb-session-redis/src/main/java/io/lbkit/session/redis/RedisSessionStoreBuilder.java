package io.lbkit.session.redis;

import io.lbkit.core.Ticker;
import io.lbkit.session.SessionEvent;
import io.lbkit.session.SessionSettings;
import io.lbkit.session.SessionStoreException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

/**
 * Configuration of a {@link RedisSessionStore}, from {@link RedisSessionStore#builder()}. Exactly
 * one of {@link #client}, {@link #uri}, {@link #sentinel} or {@link #cluster} names the
 * server(s); every other setting has the default its setter names. {@link #build} validates
 * (an {@link IllegalArgumentException} names the setting and the bad value) and connects.
 *
 * <pre>{@code
 * RedisSessionStore store = RedisSessionStore.builder()
 *         .sentinel("mymaster", List.of("10.0.0.5:26379", "10.0.0.6:26379"))
 *         .password(secret)
 *         .nearCache(true)
 *         .build();
 * }</pre>
 */
public final class RedisSessionStoreBuilder {
    private RedissonClient client;
    private String uri;
    private String sentinelMaster;
    private List<String> sentinelAddresses;
    private List<String> clusterNodes;
    private String username;
    private String password;
    private int database;
    private boolean databaseSet;
    private Duration commandTimeout = Duration.ofSeconds(2);
    private Duration connectTimeout = Duration.ofSeconds(2);
    private int retryAttempts = 1;
    private Duration retryDelay = Duration.ofMillis(200);
    private String keyPrefix = "lbkit:session:";
    private SessionSettings settings = SessionSettings.defaults();
    private boolean nearCache;
    private long nearCacheMaxSize = 10_000;
    private Duration nearCacheTtl = Duration.ofSeconds(30);
    private boolean expiredEvents;
    private boolean configureKeyspaceNotifications;
    private Ticker ticker = Ticker.system();

    RedisSessionStoreBuilder() {
    }

    /**
     * Use a client the caller owns (and closes); its configuration is used as is. With
     * Sentinel, Cluster or replicas configure it to read from masters
     * ({@code ReadMode.MASTER}, as the clients this builder makes do): loads are plain reads,
     * and a replica could answer with a session that was just changed or deleted.
     */
    public RedisSessionStoreBuilder client(RedissonClient client) {
        this.client = client;
        return this;
    }

    /**
     * A standalone server: {@code redis://[[user]:password@]host:port[/db]} or
     * {@code rediss://...} for TLS. The store owns and closes the client it creates.
     */
    public RedisSessionStoreBuilder uri(String uri) {
        this.uri = uri;
        return this;
    }

    /** Sentinel: master name and sentinel addresses ({@code host:port} or {@code redis://host:port}). */
    public RedisSessionStoreBuilder sentinel(String masterName, List<String> sentinelAddresses) {
        this.sentinelMaster = masterName;
        this.sentinelAddresses = sentinelAddresses == null ? null : List.copyOf(sentinelAddresses);
        return this;
    }

    /** Cluster: some node addresses ({@code host:port} or {@code redis://host:port}). */
    public RedisSessionStoreBuilder cluster(List<String> nodeAddresses) {
        this.clusterNodes = nodeAddresses == null ? null : List.copyOf(nodeAddresses);
        return this;
    }

    /** ACL user name for sentinel or cluster connections (a URI carries its own). */
    public RedisSessionStoreBuilder username(String username) {
        this.username = username;
        return this;
    }

    /** Password for sentinel or cluster connections (a URI carries its own). */
    public RedisSessionStoreBuilder password(String password) {
        this.password = password;
        return this;
    }

    /**
     * Database number: for sentinel, and for the expired-events channel of a client passed in
     * (a URI carries its own); default 0. Cluster has only database 0.
     */
    public RedisSessionStoreBuilder database(int database) {
        this.database = database;
        this.databaseSet = true;
        return this;
    }

    /** Time to wait for a reply before a retry or failure; default 2 s. */
    public RedisSessionStoreBuilder commandTimeout(Duration commandTimeout) {
        this.commandTimeout = commandTimeout;
        return this;
    }

    /** Time to establish a connection; default 2 s. */
    public RedisSessionStoreBuilder connectTimeout(Duration connectTimeout) {
        this.connectTimeout = connectTimeout;
        return this;
    }

    /** Retries of a command that failed to send or timed out; default 1. */
    public RedisSessionStoreBuilder retryAttempts(int retryAttempts) {
        this.retryAttempts = retryAttempts;
        return this;
    }

    /** Pause before a retry; default 200 ms. */
    public RedisSessionStoreBuilder retryDelay(Duration retryDelay) {
        this.retryDelay = retryDelay;
        return this;
    }

    /** Namespace of keys and the event channel; default {@code lbkit:session:}. */
    public RedisSessionStoreBuilder keyPrefix(String keyPrefix) {
        this.keyPrefix = keyPrefix;
        return this;
    }

    /** Timeouts and limits; default {@link SessionSettings#defaults()}. */
    public RedisSessionStoreBuilder settings(SessionSettings settings) {
        this.settings = settings;
        return this;
    }

    /** Keep decoded sessions in a local Caffeine cache kept coherent by pub/sub; default off. */
    public RedisSessionStoreBuilder nearCache(boolean nearCache) {
        this.nearCache = nearCache;
        return this;
    }

    /** Most sessions in the near cache; default 10,000. */
    public RedisSessionStoreBuilder nearCacheMaxSize(long nearCacheMaxSize) {
        this.nearCacheMaxSize = nearCacheMaxSize;
        return this;
    }

    /** Longest a near-cached session is served before a round trip; default 30 s. */
    public RedisSessionStoreBuilder nearCacheTtl(Duration nearCacheTtl) {
        this.nearCacheTtl = nearCacheTtl;
        return this;
    }

    /**
     * Deliver {@link SessionEvent.Type#EXPIRED} from Redis keyspace notifications
     * ({@code __keyevent@<db>__:expired}); needs {@code notify-keyspace-events} to contain
     * {@code Ex} on the server. Default off.
     */
    public RedisSessionStoreBuilder expiredEvents(boolean expiredEvents) {
        this.expiredEvents = expiredEvents;
        return this;
    }

    /**
     * Opt-in: run {@code CONFIG SET notify-keyspace-events} (adding {@code Ex} to what is set)
     * on the master(s) at build. Managed Redis services often refuse CONFIG. Default off.
     */
    public RedisSessionStoreBuilder configureKeyspaceNotifications(boolean configure) {
        this.configureKeyspaceNotifications = configure;
        return this;
    }

    /** Clock of the near cache; default {@link Ticker#system()}. */
    public RedisSessionStoreBuilder ticker(Ticker ticker) {
        this.ticker = ticker;
        return this;
    }

    /**
     * Validates and builds; connects when the store owns its client.
     *
     * @throws IllegalArgumentException naming the bad setting
     * @throws SessionStoreException when Redis cannot be reached
     */
    public RedisSessionStore build() {
        int sources = (client != null ? 1 : 0) + (uri != null ? 1 : 0) + (sentinelMaster != null
                || sentinelAddresses != null ? 1 : 0) + (clusterNodes != null ? 1 : 0);
        if (sources != 1) {
            throw new IllegalArgumentException("exactly one of client, uri, sentinel or cluster must be set, got "
                    + sources);
        }
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(ticker, "ticker");
        if (keyPrefix == null || keyPrefix.isEmpty() || keyPrefix.contains("{") || keyPrefix.contains("}")) {
            throw new IllegalArgumentException("keyPrefix must be non-empty without braces, got '" + keyPrefix + "'");
        }
        positive("commandTimeout", commandTimeout);
        positive("connectTimeout", connectTimeout);
        if (retryDelay == null || retryDelay.isNegative()) {
            throw new IllegalArgumentException("retryDelay must not be negative, got " + retryDelay);
        }
        if (retryAttempts < 0) {
            throw new IllegalArgumentException("retryAttempts must be >= 0, got " + retryAttempts);
        }
        if (nearCacheMaxSize < 1) {
            throw new IllegalArgumentException("nearCacheMaxSize must be >= 1, got " + nearCacheMaxSize);
        }
        positive("nearCacheTtl", nearCacheTtl);
        if (database < 0) {
            throw new IllegalArgumentException("database must be >= 0, got " + database);
        }
        NearCache near = nearCache ? new NearCache(nearCacheMaxSize, nearCacheTtl, ticker) : NearCache.disabled();
        if (client != null) {
            return new RedisSessionStore(client, false, options(database), near);
        }
        RedisUri parsed = uri == null ? null : RedisUri.parse(uri);
        Config config = clientConfig(parsed);
        if (near.isEnabled()) {
            RedisClients.clearOnConnectionEvents(config, near);
        }
        RedissonClient created = RedisClients.connect(config);
        return new RedisSessionStore(created, true, options(parsed == null ? database : parsed.database()), near);
    }

    private RedisSessionStore.Options options(int effectiveDatabase) {
        return new RedisSessionStore.Options(settings, keyPrefix, effectiveDatabase, expiredEvents,
                configureKeyspaceNotifications);
    }

    /** The Redisson configuration of a client this store owns: one server, a cluster or sentinels. */
    private Config clientConfig(RedisUri parsed) {
        RedisClients.Timeouts timeouts = new RedisClients.Timeouts(commandTimeout, connectTimeout, retryAttempts,
                retryDelay);
        if (parsed != null) {
            return RedisClients.standalone(parsed, timeouts);
        }
        Config config;
        if (clusterNodes != null) {
            if (clusterNodes.isEmpty()) {
                throw new IllegalArgumentException("cluster needs at least one node address, got none");
            }
            if (databaseSet && database != 0) {
                throw new IllegalArgumentException("database must be 0 in Cluster, got " + database);
            }
            config = RedisClients.cluster(clusterNodes, timeouts);
        } else {
            if (sentinelMaster == null || sentinelMaster.isBlank()) {
                throw new IllegalArgumentException("sentinel master name must be non-empty, got '" + sentinelMaster
                        + "'");
            }
            if (sentinelAddresses == null || sentinelAddresses.isEmpty()) {
                throw new IllegalArgumentException("sentinel needs at least one sentinel address, got none");
            }
            config = RedisClients.sentinel(sentinelMaster, database, sentinelAddresses, timeouts);
        }
        if (username != null) {
            config.setUsername(username);
        }
        if (password != null) {
            config.setPassword(password);
        }
        return config;
    }

    private static void positive(String name, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, got " + d);
        }
    }
}
