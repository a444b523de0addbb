package io.lbkit.server;

import io.lbkit.core.limit.RateLimiter;
import io.lbkit.core.Upstream;
import io.lbkit.health.OutlierDetection;
import io.lbkit.proxy.FanOut;
import io.lbkit.proxy.RequestValue;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.StickyCookie;
import io.lbkit.server.config.ConfigException;
import io.lbkit.server.config.ServeConfig;
import io.lbkit.server.config.ServeConfig.OutlierSpec;
import io.lbkit.server.config.ServeConfig.RouteSpec;
import io.lbkit.server.config.ServeConfig.UpstreamSpec;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code serve} file's specs made into the objects of lb-core, lb-health and lb-proxy: a
 * route, its request values and fan-out, an upstream's outlier detection. Stateless; the engines'
 * assembly stays in {@link ProxyServer}.
 */
final class SpecObjects {

    private static final Logger LOG = LoggerFactory.getLogger(ProxyServer.class);

    private SpecObjects() {
    }

    /**
     * Outlier detection that is on but can never eject (Envoy's rule: one ejection must keep the
     * ejected share within maxEjectionPercent, so 10% needs ten endpoints) is a silent no-op.
     */
    static void warnIfNeverEjects(UpstreamSpec u) {
        OutlierSpec o = u.outlier();
        int endpoints = u.endpoints().size();
        if (o == null || o.alwaysEjectOneHost() || 100.0 / endpoints <= o.maxEjectionPercent()) {
            return;
        }
        LOG.warn("upstream '{}': outlier detection can never eject an endpoint: one of {} is {}% of the upstream, "
                + "above maxEjectionPercent {}; set alwaysEjectOneHost: true or maxEjectionPercent: {} or more",
                u.name(), endpoints, 100 / endpoints, o.maxEjectionPercent(), (99 + endpoints) / endpoints);
    }

    static OutlierDetection outlier(OutlierSpec o) {
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

    static Route route(ServeConfig config, Map<String, Upstream> ups, int index, RouteSpec r,
                       java.util.function.BiFunction<io.lbkit.server.config.EdgePolicy.SharedZone, io.lbkit.proxy.RateLimit,
                               io.lbkit.proxy.RateLimit> shared) {
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
    static RequestValue requestValue(ServeConfig.HashKey.Source source, String name, boolean target) {
        return switch (source) {
            case NONE -> null;
            case CLIENT_IP -> RequestValue.clientIp();
            case URI -> RequestValue.uri();
            case HEADER -> RequestValue.header(name);
            case COOKIE -> RequestValue.cookie(name);
            case QUERY -> target ? RequestValue.param(name) : RequestValue.query(name);
        };
    }

    static FanOut fanOut(ServeConfig.FanOutSpec f) {
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
