package io.lbkit.config;

import io.lbkit.core.limit.RateLimiter;
import io.lbkit.core.Upstream;
import io.lbkit.health.OutlierDetection;
import io.lbkit.proxy.FanOut;
import io.lbkit.proxy.RequestValue;
import io.lbkit.proxy.RateLimit;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.StickyCookie;
import io.lbkit.config.ServeConfig.OutlierSpec;
import io.lbkit.config.ServeConfig.RouteSpec;
import io.lbkit.config.ServeConfig.UpstreamSpec;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code serve} file's specs made into the objects of lb-core, lb-health and lb-proxy: a
 * route, its request values and fan-out, an upstream's outlier detection. Stateless; the engines'
 * assembly stays in the server.
 */
public final class SpecObjects {

    private static final Logger LOG = LoggerFactory.getLogger(SpecObjects.class);

    private SpecObjects() {
    }

    /**
     * Outlier detection that is on but can never eject (Envoy's rule: one ejection must keep the
     * ejected share within maxEjectionPercent, so 10% needs ten endpoints) is a silent no-op.
     */
    public static void warnIfNeverEjects(UpstreamSpec u) {
        OutlierSpec o = u.outlier();
        int endpoints = u.endpoints().size();
        if (o == null || o.alwaysEjectOneHost() || 100.0 / endpoints <= o.maxEjectionPercent()) {
            return;
        }
        LOG.warn("upstream '{}': outlier detection can never eject an endpoint: one of {} is {}% of the upstream, "
                + "above maxEjectionPercent {}; set alwaysEjectOneHost: true or maxEjectionPercent: {} or more",
                u.name(), endpoints, 100 / endpoints, o.maxEjectionPercent(), (99 + endpoints) / endpoints);
    }

    public static OutlierDetection outlier(OutlierSpec o) {
        if (o == null) {
            return OutlierDetection.disabled();
        }
        return OutlierDetection.envoyDefaults().toBuilder()
                .consecutive5xx(o.consecutive5xx())
                .consecutiveGatewayFailure(o.consecutiveGatewayFailure())
                .interval(o.interval())
                .baseEjectionTime(o.baseEjectionTime())
                .maxEjectionTime(o.maxEjectionTime())
                .maxEjectionPercent(o.maxEjectionPercent())
                .alwaysEjectOneHost(o.alwaysEjectOneHost())
                .enforcingSuccessRate(o.successRate() ? 100 : 0)
                .enforcingFailurePercentage(o.failurePercentage() ? 100 : 0)
                .build();
    }

    /**
     * A route whose shared rate limits ({@code zone: { store: ... }}) are refused: the host that
     * makes the store's client (lb-server's {@code serve}) uses
     * {@link #route(ServeConfig, Map, int, RouteSpec, BiFunction)}.
     */
    public static Route route(ServeConfig config, Map<String, Upstream> ups, int index, RouteSpec r) {
        return route(config, ups, index, r, NO_SHARED_STORE);
    }

    /** Refuses a rate limit with a {@code zone.store}, naming the zone (never the store's URI: it may hold a password). */
    public static final BiFunction<EdgePolicy.SharedZone, RateLimit, RateLimit> NO_SHARED_STORE = (zone, limit) -> {
        throw new IllegalArgumentException("rate limit zone '" + zone.name() + "' keeps its bucket in a store: "
                + "applied by lb-server's serve only");
    };

    /** The route {@code r} of {@code config}; {@code shared} turns a rate limit with a zone store into the shared one. */
    public static Route route(ServeConfig config, Map<String, Upstream> ups, int index, RouteSpec r,
                              BiFunction<EdgePolicy.SharedZone, RateLimit, RateLimit> shared) {
        String at = "routes[" + index + "]";
        UpstreamSpec u = config.upstreams().get(r.upstream());
        Route.Builder b = Route.builder(r.name(), ups.get(r.upstream()))
                .pathPrefix(r.match().pathPrefix())
                .retryPolicy(r.retry());
        RequestValue hashKey = requestValue(u.hashKey().source(), u.hashKey().name(), false);
        if (hashKey != null) {
            b.hashKey(hashKey);
        }
        if (r.mode() == RouteSpec.Mode.BROADCAST) {
            b.broadcast(fanOut(r.fanOut()));
        } else if (r.mode() == RouteSpec.Mode.TARGETED) {
            b.target(requestValue(r.target().source(), r.target().name(), true));
        }
        if (r.match().host() != null) {
            b.host(r.match().host());
        }
        if (!r.match().methods().isEmpty()) {
            b.methods(r.match().methods().toArray(String[]::new));
        }
        if (r.match().headers().size() > 1) {
            throw new ConfigException(config.source(), at + ".match.headers", "at most one header can be matched");
        }
        r.match().headers().forEach(b::header);
        if (r.sticky() != null) {
            b.sticky(StickyCookie.builder(r.sticky().key().getBytes(StandardCharsets.UTF_8))
                    .name(r.sticky().cookie()).maxAge(r.sticky().maxAge()).build());
        }
        if (r.rateLimit() != null) {
            ServeConfig.RateLimitSpec rl = r.rateLimit();
            RateLimiter.Builder lb = RateLimiter.builder().rate(rl.rate()).burst(rl.burst()).rejectStatus(rl.status());
            if (rl.nodelay()) {
                lb.noDelay();
            } else if (rl.delay() > 0) {
                lb.delay(rl.delay());
            }
            b.rateLimiter(lb.build());
        }
        config.policy().applyTo(r.name(), b, ups::get, shared);
        return b.build();
    }

    /** The request value of a config hash key or target; {@code query} of a target also reads form fields. */
    public static RequestValue requestValue(ServeConfig.HashKey.Source source, String name, boolean target) {
        return switch (source) {
            case NONE -> null;
            case CLIENT_IP -> RequestValue.clientIp();
            case URI -> RequestValue.uri();
            case HEADER -> RequestValue.header(name);
            case COOKIE -> RequestValue.cookie(name);
            case QUERY -> target ? RequestValue.param(name) : RequestValue.query(name);
        };
    }

    public static FanOut fanOut(ServeConfig.FanOutSpec f) {
        FanOut.Builder fb = FanOut.builder().primary(f.primary()).summary(f.summary());
        switch (f.aggregate()) {
            case ALL -> fb.aggregation(FanOut.Aggregation.ALL);
            case FIRST -> fb.aggregation(FanOut.Aggregation.FIRST);
            case QUORUM -> fb.quorum(f.quorum());
            default -> throw new IllegalStateException(f.aggregate().name());
        }
        return fb.build();
    }
}
