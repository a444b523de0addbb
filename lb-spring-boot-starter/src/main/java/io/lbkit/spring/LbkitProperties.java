package io.lbkit.spring;

import io.lbkit.core.limit.CidrRules;
import io.lbkit.proxy.SessionApi;
import io.lbkit.servlet.backend.SessionFilter;
import io.lbkit.session.SessionCookies;
import io.lbkit.session.SessionCookies.SameSite;
import io.lbkit.session.SessionCookies.SecureCookie;
import io.lbkit.session.SessionSettings;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.convert.DataSizeUnit;
import org.springframework.boot.convert.DurationUnit;
import org.springframework.util.unit.DataSize;
import org.springframework.util.unit.DataUnit;
import org.springframework.validation.Errors;
import org.springframework.validation.Validator;

/**
 * The {@code lbkit.*} properties of a Spring Boot app: the session store, the session filter and
 * its cookie, the session API and the instance-id header. Every default is the one the lbkit
 * builders document. Bad values fail start-up with a message that names the property, e.g.
 * {@code lbkit.session.idle-timeout must be positive, got PT0S}.
 */
@ConfigurationProperties(prefix = "lbkit")
public class LbkitProperties implements Validator {

    // Defaults are literals so that the configuration processor documents them;
    // LbkitPropertiesTest checks that they equal the lbkit builders' defaults.

    /** The session store, filter, cookie and API. */
    private final Session session = new Session();

    /** The response header naming the instance that answered. */
    private final InstanceId instanceId = new InstanceId();

    public Session getSession() {
        return session;
    }

    public InstanceId getInstanceId() {
        return instanceId;
    }

    /** Where the proxy filter runs (the proxy side: lbkit.upstreams and lbkit.routes). */
    private final ProxyFilter proxyFilter = new ProxyFilter();

    public ProxyFilter getProxyFilter() {
        return proxyFilter;
    }

    /** {@code lbkit.proxy-filter.*}. */
    public static class ProxyFilter {

        /**
         * The proxy filter's order among the app's filters: by default after lbkit's session filter
         * and before Spring's FormContentFilter (-9900, which would read a proxied form body) and
         * Spring Security's filter chain (-100).
         */
        private int order = -10000;

        public int getOrder() {
            return order;
        }

        public void setOrder(int order) {
            this.order = order;
        }
    }

    /** {@code lbkit.session.*}. */
    public static class Session {

        /** Spring Session's {@code SessionRepositoryFilter.DEFAULT_ORDER}: before Spring Security's chain. */
        public static final int DEFAULT_FILTER_ORDER = Integer.MIN_VALUE + 50;

        /**
         * Whether lbkit backs request.getSession(): the store, the session filter and the session
         * API. Off leaves the container's own sessions in place.
         */
        private boolean enabled = true;

        /**
         * Where sessions live: "memory" (an in-process store, lost on restart and not shared); a
         * Redis URI, redis://[[user]:password@]host:port[/db] or rediss://... for TLS; or "redis":
         * the app's own Redis (lbkit.session.redis.sentinel.* or .cluster.*, else the app's
         * RedissonClient bean, else spring.data.redis.*). Redis needs io.lbkit:lb-session-redis.
         */
        private String store = "memory";

        /** How long a session lives without a request (seconds when no unit is given). */
        @DurationUnit(ChronoUnit.SECONDS)
        private Duration idleTimeout = Duration.ofHours(24);

        /** Longest a session lives from its creation whatever its activity; none when unset. */
        @DurationUnit(ChronoUnit.SECONDS)
        private Duration absoluteTimeout;

        /** Most attributes one session may hold. */
        private int maxAttributes = 256;

        /** Most bytes of a session's attributes encoded as one JSON object. */
        @DataSizeUnit(DataUnit.BYTES)
        private DataSize maxSessionBytes = DataSize.ofKilobytes(64);

        /** Order of the session filter among the app's filters; the default runs it before Spring Security. */
        private int filterOrder = -2147483598;

        /**
         * Addresses or CIDRs of the proxies (an lbkit tier, nginx) whose X-Session-ID and
         * X-Forwarded-Proto headers are believed. None by default: both are ignored.
         */
        private List<String> trustedProxies = new ArrayList<>();

        /** Header a trusted proxy may pass the session id in; empty turns it off. */
        private String sessionIdHeader = "X-Session-ID";

        /** Which attributes a request writes back to the store. */
        private SessionFilter.SaveMode saveMode = SessionFilter.SaveMode.ON_SET_ATTRIBUTE;

        /**
         * Classes whose instances may be stored as typed attributes (JSON with their type
         * restored); any other object is refused by setAttribute.
         */
        private List<String> allowClasses = new ArrayList<>();

        /** The session cookie. */
        private final Cookie cookie = new Cookie();

        /** The Redis store's settings (when store is a redis:// URI). */
        private final Redis redis = new Redis();

        /** The session API: create, read, update and delete a session by id over HTTP. */
        private final Api api = new Api();

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public String getStore() {
            return store;
        }

        public void setStore(String store) {
            this.store = store;
        }

        public Duration getIdleTimeout() {
            return idleTimeout;
        }

        public void setIdleTimeout(Duration idleTimeout) {
            this.idleTimeout = idleTimeout;
        }

        public Duration getAbsoluteTimeout() {
            return absoluteTimeout;
        }

        public void setAbsoluteTimeout(Duration absoluteTimeout) {
            this.absoluteTimeout = absoluteTimeout;
        }

        public int getMaxAttributes() {
            return maxAttributes;
        }

        public void setMaxAttributes(int maxAttributes) {
            this.maxAttributes = maxAttributes;
        }

        public DataSize getMaxSessionBytes() {
            return maxSessionBytes;
        }

        public void setMaxSessionBytes(DataSize maxSessionBytes) {
            this.maxSessionBytes = maxSessionBytes;
        }

        public int getFilterOrder() {
            return filterOrder;
        }

        public void setFilterOrder(int filterOrder) {
            this.filterOrder = filterOrder;
        }

        public List<String> getTrustedProxies() {
            return trustedProxies;
        }

        public void setTrustedProxies(List<String> trustedProxies) {
            this.trustedProxies = trustedProxies;
        }

        public String getSessionIdHeader() {
            return sessionIdHeader;
        }

        public void setSessionIdHeader(String sessionIdHeader) {
            this.sessionIdHeader = sessionIdHeader;
        }

        public SessionFilter.SaveMode getSaveMode() {
            return saveMode;
        }

        public void setSaveMode(SessionFilter.SaveMode saveMode) {
            this.saveMode = saveMode;
        }

        public List<String> getAllowClasses() {
            return allowClasses;
        }

        public void setAllowClasses(List<String> allowClasses) {
            this.allowClasses = allowClasses;
        }

        public Cookie getCookie() {
            return cookie;
        }

        public Redis getRedis() {
            return redis;
        }

        public Api getApi() {
            return api;
        }

        /** Whether {@link #getStore()} names a Redis server rather than the in-memory store. */
        boolean isRedis() {
            String s = store == null ? "" : store.strip().toLowerCase(Locale.ROOT);
            return s.startsWith("redis://") || s.startsWith("rediss://") || s.equals("redis");
        }

        /** Whether {@link #getStore()} is "redis": the app's own Redis settings. */
        boolean isAppRedis() {
            return store != null && store.strip().equalsIgnoreCase("redis");
        }

        /** The store settings; call after validation. */
        SessionSettings settings() {
            return SessionSettings.builder()
                    .idleTimeout(idleTimeout)
                    .absoluteTimeout(absoluteTimeout)
                    .maxAttributes(maxAttributes)
                    .maxSessionBytes((int) maxSessionBytes.toBytes())
                    .build();
        }
    }

    /** {@code lbkit.session.cookie.*}. */
    public static class Cookie {

        /** Session cookie name (an RFC 6265 token). */
        private String name = "LBSESSION";

        /** Cookie Path; the context path ("/" for the root context) when unset. */
        private String path;

        /** Cookie Domain; none (a host-only cookie) when unset. */
        private String domain;

        /**
         * Cookie Max-Age (seconds when no unit is given); unset: a browser-session cookie. The
         * server-side timeouts apply either way.
         */
        @DurationUnit(ChronoUnit.SECONDS)
        private Duration maxAge;

        /** Cookie SameSite: lax, strict or none (none always adds Secure). */
        private SameSite sameSite = SameSite.LAX;

        /**
         * When the cookie is Secure: auto (the request was HTTPS, or a trusted proxy said so in
         * X-Forwarded-Proto), always or never.
         */
        private SecureCookie secure = SecureCookie.AUTO;

        public String getName() {
            return name;
        }

        public void setName(String name) {
            this.name = name;
        }

        public String getPath() {
            return path;
        }

        public void setPath(String path) {
            this.path = path;
        }

        public String getDomain() {
            return domain;
        }

        public void setDomain(String domain) {
            this.domain = domain;
        }

        public Duration getMaxAge() {
            return maxAge;
        }

        public void setMaxAge(Duration maxAge) {
            this.maxAge = maxAge;
        }

        public SameSite getSameSite() {
            return sameSite;
        }

        public void setSameSite(SameSite sameSite) {
            this.sameSite = sameSite;
        }

        public SecureCookie getSecure() {
            return secure;
        }

        public void setSecure(SecureCookie secure) {
            this.secure = secure;
        }
    }

    /** {@code lbkit.session.redis.*}. */
    public static class Redis {

        /** Namespace of the session keys and the event channel. */
        private String keyPrefix = "lbkit:session:";

        /** Time to wait for a reply before a retry or failure. */
        private Duration commandTimeout = Duration.ofSeconds(2);

        /** Time to establish a connection. */
        private Duration connectTimeout = Duration.ofSeconds(2);

        /** Keep decoded sessions in a local cache kept coherent through Redis pub/sub. */
        private boolean nearCache;

        /** With lbkit.session.store=redis: Redis Sentinel's master name and sentinel addresses. */
        private final Sentinel sentinel = new Sentinel();

        /** With lbkit.session.store=redis: a Redis Cluster's node addresses. */
        private final Cluster cluster = new Cluster();

        public Sentinel getSentinel() {
            return sentinel;
        }

        public Cluster getCluster() {
            return cluster;
        }

        public String getKeyPrefix() {
            return keyPrefix;
        }

        public void setKeyPrefix(String keyPrefix) {
            this.keyPrefix = keyPrefix;
        }

        public Duration getCommandTimeout() {
            return commandTimeout;
        }

        public void setCommandTimeout(Duration commandTimeout) {
            this.commandTimeout = commandTimeout;
        }

        public Duration getConnectTimeout() {
            return connectTimeout;
        }

        public void setConnectTimeout(Duration connectTimeout) {
            this.connectTimeout = connectTimeout;
        }

        public boolean isNearCache() {
            return nearCache;
        }

        public void setNearCache(boolean nearCache) {
            this.nearCache = nearCache;
        }
    }

    /** {@code lbkit.session.redis.sentinel.*}. */
    public static class Sentinel {

        /** The master's name the sentinels know it by. */
        private String master;

        /** Sentinel addresses, host:port. */
        private List<String> nodes = new ArrayList<>();

        public String getMaster() {
            return master;
        }

        public void setMaster(String master) {
            this.master = master;
        }

        public List<String> getNodes() {
            return nodes;
        }

        public void setNodes(List<String> nodes) {
            this.nodes = nodes;
        }
    }

    /** {@code lbkit.session.redis.cluster.*}. */
    public static class Cluster {

        /** Node addresses, host:port (some of the cluster's nodes: the rest is discovered). */
        private List<String> nodes = new ArrayList<>();

        public List<String> getNodes() {
            return nodes;
        }

        public void setNodes(List<String> nodes) {
            this.nodes = nodes;
        }
    }

    /** {@code lbkit.session.api.*}. */
    public static class Api {

        /** Whether the session API is served. */
        private boolean enabled;

        /** The exact path it is served at. */
        private String path = "/session";

        /**
         * Token a caller must send (Authorization: Bearer or X-Session-Api-Token), at least 16
         * characters. The API needs a token, an allow list, or both.
         */
        private String token;

        /** Addresses or CIDRs that may call; any address when empty (then a token is required). */
        private List<String> allow = new ArrayList<>();

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public String getPath() {
            return path;
        }

        public void setPath(String path) {
            this.path = path;
        }

        public String getToken() {
            return token;
        }

        public void setToken(String token) {
            this.token = token;
        }

        public List<String> getAllow() {
            return allow;
        }

        public void setAllow(List<String> allow) {
            this.allow = allow;
        }
    }

    /** {@code lbkit.instance-id.*}. */
    public static class InstanceId {

        /** Whether every response names the instance that answered. */
        private boolean enabled;

        /** The response header. */
        private String header = "X-Instance-ID";

        /** The id sent; hostname:local-port when unset. */
        private String value;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public String getHeader() {
            return header;
        }

        public void setHeader(String header) {
            this.header = header;
        }

        public String getValue() {
            return value;
        }

        public void setValue(String value) {
            this.value = value;
        }
    }

    // ---- validation: each message names the property and the bad value ----

    @Override
    public boolean supports(Class<?> type) {
        return LbkitProperties.class == type;
    }

    @Override
    public void validate(Object target, Errors errors) {
        LbkitProperties p = (LbkitProperties) target;
        Session s = p.session;
        if (s.enabled) {
            validateSession(s, errors);
        }
        InstanceId id = p.instanceId;
        if (id.enabled) {
            if (!isToken(id.header)) {
                reject(errors, "instanceId.header", "lbkit.instance-id.header must be a header name, got '"
                        + id.header + "'");
            }
            if (id.value != null && (id.value.isEmpty() || id.value.chars().anyMatch(c -> c < 0x20 || c == 0x7f))) {
                reject(errors, "instanceId.value", "lbkit.instance-id.value must be non-empty printable text, got '"
                        + id.value + "'");
            }
        }
    }

    private static void validateSession(Session s, Errors errors) {
        String store = s.store == null ? "" : s.store.strip();
        if (!store.equalsIgnoreCase("memory") && !s.isRedis()) {
            // the value may be a URI with a password in it: name its scheme only
            int colon = store.indexOf(':');
            rejectHidden(errors, "lbkit.session.store must be 'memory', 'redis' (the app's Redis) or a redis:// or rediss:// URI, got "
                    + (colon > 0 ? "a '" + store.substring(0, colon) + ":' URI" : "'" + store + "'"));
        }
        positive(errors, "session.idleTimeout", "lbkit.session.idle-timeout", s.idleTimeout, false);
        positive(errors, "session.absoluteTimeout", "lbkit.session.absolute-timeout", s.absoluteTimeout, true);
        if (s.maxAttributes < 1) {
            reject(errors, "session.maxAttributes", "lbkit.session.max-attributes must be at least 1, got "
                    + s.maxAttributes);
        }
        if (s.maxSessionBytes == null || s.maxSessionBytes.toBytes() < 64
                || s.maxSessionBytes.toBytes() > Integer.MAX_VALUE) {
            reject(errors, "session.maxSessionBytes", "lbkit.session.max-session-bytes must be 64B to 2GB, got "
                    + s.maxSessionBytes);
        }
        cidrs(errors, "session.trustedProxies", "lbkit.session.trusted-proxies", s.trustedProxies);
        if (s.sessionIdHeader != null && !s.sessionIdHeader.isEmpty() && !isToken(s.sessionIdHeader)) {
            reject(errors, "session.sessionIdHeader", "lbkit.session.session-id-header must be a header name, got '"
                    + s.sessionIdHeader + "'");
        }
        if (s.saveMode == null) {
            reject(errors, "session.saveMode", "lbkit.session.save-mode must be on-set-attribute or on-get-attribute");
        }
        ClassLoader cl = LbkitProperties.class.getClassLoader();
        for (String name : s.allowClasses) {
            try {
                Class.forName(name.strip(), false, cl);
            } catch (ClassNotFoundException | LinkageError e) {
                reject(errors, "session.allowClasses", "lbkit.session.allow-classes: class '" + name + "' not found");
            }
        }
        Cookie c = s.cookie;
        if (!isToken(c.name)) {
            reject(errors, "session.cookie.name", "lbkit.session.cookie.name must be a non-empty RFC 6265 token, got '"
                    + c.name + "'");
        }
        if (c.path != null && !isSafeAttributeValue(c.path)) {
            reject(errors, "session.cookie.path", "lbkit.session.cookie.path must not contain ';', ',', spaces or "
                    + "control characters, got '" + c.path + "'");
        }
        if (c.domain != null && (c.domain.isEmpty() || !isSafeAttributeValue(c.domain))) {
            reject(errors, "session.cookie.domain", "lbkit.session.cookie.domain must be a host name, got '"
                    + c.domain + "'");
        }
        if (c.maxAge != null && (c.maxAge.isNegative() || c.maxAge.toSeconds() > Integer.MAX_VALUE)) {
            reject(errors, "session.cookie.maxAge", "lbkit.session.cookie.max-age must be 0 or more seconds, got "
                    + c.maxAge);
        }
        if (c.sameSite == null) {
            reject(errors, "session.cookie.sameSite", "lbkit.session.cookie.same-site must be lax, strict or none");
        }
        if (c.secure == null) {
            reject(errors, "session.cookie.secure", "lbkit.session.cookie.secure must be auto, always or never");
        }
        if (s.isRedis()) {
            Redis r = s.redis;
            if (r.keyPrefix == null || r.keyPrefix.isEmpty() || r.keyPrefix.contains("{") || r.keyPrefix.contains("}")) {
                reject(errors, "session.redis.keyPrefix", "lbkit.session.redis.key-prefix must be non-empty without "
                        + "braces, got '" + r.keyPrefix + "'");
            }
            positive(errors, "session.redis.commandTimeout", "lbkit.session.redis.command-timeout", r.commandTimeout,
                    false);
            positive(errors, "session.redis.connectTimeout", "lbkit.session.redis.connect-timeout", r.connectTimeout,
                    false);
            boolean sentinel = r.sentinel.master != null || !r.sentinel.nodes.isEmpty();
            if (sentinel && (r.sentinel.master == null || r.sentinel.master.isBlank() || r.sentinel.nodes.isEmpty())) {
                reject(errors, "session.redis.sentinel", "lbkit.session.redis.sentinel needs both master and nodes, got "
                        + "master " + (r.sentinel.master == null ? "none" : "'" + r.sentinel.master + "'") + " and "
                        + r.sentinel.nodes.size() + " nodes");
            }
            if (sentinel && !r.cluster.nodes.isEmpty()) {
                reject(errors, "session.redis.cluster", "lbkit.session.redis.sentinel and lbkit.session.redis.cluster "
                        + "exclude each other: set one");
            }
            if ((sentinel || !r.cluster.nodes.isEmpty()) && !s.isAppRedis()) {
                reject(errors, "session.store", "lbkit.session.redis.sentinel and .cluster need lbkit.session.store=redis, "
                        + "not a URI");
            }
        }
        Api a = s.api;
        if (a.enabled) {
            if (a.path == null || !a.path.startsWith("/") || a.path.contains("*") || a.path.length() < 2) {
                reject(errors, "session.api.path", "lbkit.session.api.path must be an exact path such as /session, "
                        + "got '" + a.path + "'");
            }
            if (a.token != null && a.token.length() < SessionApi.MIN_TOKEN_LENGTH) {
                // never echo a token, not even a short one
                rejectHidden(errors, "lbkit.session.api.token must be at least "
                        + SessionApi.MIN_TOKEN_LENGTH + " characters, got " + a.token.length());
            }
            cidrs(errors, "session.api.allow", "lbkit.session.api.allow", a.allow);
            if (a.token == null && a.allow.isEmpty()) {
                reject(errors, "session.api.token", "lbkit.session.api.enabled is true but neither "
                        + "lbkit.session.api.token nor lbkit.session.api.allow is set: anyone could read and write "
                        + "every session (allow 0.0.0.0/0 and ::/0 to open it on purpose)");
            }
        }
    }

    private static void positive(Errors errors, String field, String property, Duration d, boolean nullable) {
        if (d == null ? !nullable : d.isNegative() || d.isZero()) {
            reject(errors, field, property + " must be positive, got " + d);
        }
    }

    private static void cidrs(Errors errors, String field, String property, List<String> cidrs) {
        for (String cidr : cidrs) {
            try {
                CidrRules.builder().allow(cidr.strip());
            } catch (IllegalArgumentException e) {
                reject(errors, field, property + ": " + e.getMessage());
            }
        }
    }

    private static boolean isToken(String s) {
        return s != null && !s.isEmpty() && SessionCookies.isToken(s);
    }

    private static boolean isSafeAttributeValue(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= 0x20 || c >= 0x7f || c == ';' || c == ',') {
                return false;
            }
        }
        return true;
    }

    private static void reject(Errors errors, String field, String message) {
        errors.rejectValue(field, "lbkit.invalid", message);
    }

    /** An error that does not carry the rejected value (a field error would show it): secrets. */
    private static void rejectHidden(Errors errors, String message) {
        errors.reject("lbkit.invalid", message);
    }
}
