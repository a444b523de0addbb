package io.lbkit.config;

import io.lbkit.core.limit.CidrRules;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.AddedHeaders;
import io.lbkit.proxy.Canary;
import io.lbkit.proxy.ConnLimit;
import io.lbkit.proxy.GeoBlock;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.RateLimit;
import io.lbkit.proxy.RequestValue;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.ValueMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The traffic policy of a {@code serve} file at the edge: added response headers (nginx
 * {@code add_header}), {@code allow}/{@code deny} rules and geo blocks at the top level (nginx's
 * {@code server}) and per route (its {@code location}); per route also a map match, keyed rate
 * limits and their dry run. Read by {@link EdgePolicyReader}.
 *
 * @param top    the top level's settings
 * @param routes each route's own settings by route name; a route not listed has none of its own
 */
public record EdgePolicy(Level top, Map<String, Level> routes) {

    /** No policy anywhere. */
    public static final EdgePolicy NONE = new EdgePolicy(Level.EMPTY, Map.of());

    public EdgePolicy {
        routes = Map.copyOf(routes);
    }

    /**
     * The settings of one level.
     *
     * @param headers     the level's added headers, or null when it sets none (a route then inherits)
     * @param access      the level's allow/deny rules, or null when it sets none (a route then inherits)
     * @param geoBlock    the level's geo block, or null (a route then inherits)
     * @param mapMatch    a route's map match, or null
     * @param mapValues   the map results the route takes
     * @param rateLimits  a route's keyed rate limits
     * @param limitDryRun whether a route's rate limits only decide and log
     * @param canary      a route's canary, or null
     * @param sharedZones the rate limits (by index in {@code rateLimits}) whose bucket a store shares
     * @param connLimits  a route's keyed connection limits
     * @param limitRate   a route's response bytes per second (nginx {@code limit_rate}), 0 for none
     * @param limitRateAfter the bytes of a response sent before {@code limitRate} applies
     */
    public record Level(AddedHeaders headers, CidrRules access, GeoBlock geoBlock, ValueMap mapMatch,
                        List<String> mapValues, List<RateLimit> rateLimits, boolean limitDryRun, CanarySpec canary,
                        Map<Integer, SharedZone> sharedZones, List<ConnLimit> connLimits, long limitRate,
                        long limitRateAfter) {

        static final Level EMPTY = new Level(null, null, null, null, List.of(), List.of(), false, null, Map.of(),
                List.of(), 0, 0);

        public Level {
            mapValues = List.copyOf(mapValues);
            rateLimits = List.copyOf(rateLimits);
            sharedZones = Map.copyOf(sharedZones);
            connLimits = List.copyOf(connLimits);
        }

        boolean isEmpty() {
            return equals(EMPTY);
        }
    }

    /**
     * A rate limit's shared bucket ({@code zone: { name, store, failOpen }}): the limit is kept in
     * the store under the zone's name, so every proxy that names the same zone and store enforces
     * one limit.
     *
     * @param name     the zone's name ({@code lbkit:limit:NAME:KEY})
     * @param store    the store's URI ({@code redis://...} or {@code rediss://...})
     * @param failOpen whether the local bucket decides while the store cannot (else 503)
     */
    public record SharedZone(String name, String store, boolean failOpen) {
    }

    /**
     * A route's canary: requests go to upstream {@code upstream} when a condition holds, else a
     * {@code percent} share of them by {@code splitKey}.
     *
     * @param conditions request values and the value that picks the canary, in order
     * @param percent    the share ({@code 10%}), or null for none
     * @param splitKey   the value the share is chosen by, or null with no percent
     */
    public record CanarySpec(String upstream, List<Map.Entry<RequestValue, String>> conditions, String percent,
                             RequestValue splitKey) {

        public CanarySpec {
            conditions = List.copyOf(conditions);
        }

        Canary build(Upstream up) {
            Canary.Builder b = Canary.builder(up);
            conditions.forEach(c -> b.when(c.getKey(), c.getValue()));
            if (percent != null) {
                b.percent(percent, splitKey);
            }
            return b.build();
        }
    }

    /** Sets the top level's policy on the proxy's configuration. */
    public void applyTo(ProxyConfig.Builder proxy) {
        if (top.headers() != null) {
            proxy.addedHeaders(top.headers());
        }
        proxy.access(top.access());
        proxy.geoBlock(top.geoBlock());
    }

    /**
     * Sets route {@code name}'s own policy, if it has one, on its builder; {@code upstreams} gives a
     * canary's, {@code shared} turns a limit with a {@link SharedZone} into the shared one.
     */
    public void applyTo(String name, Route.Builder route, Function<String, Upstream> upstreams,
                        BiFunction<SharedZone, RateLimit, RateLimit> shared) {
        Level own = routes.get(name);
        if (own != null) {
            route.addedHeaders(own.headers()).access(own.access()).geoBlock(own.geoBlock())
                    .limitDryRun(own.limitDryRun());
            for (int i = 0; i < own.rateLimits().size(); i++) {
                SharedZone zone = own.sharedZones().get(i);
                RateLimit l = own.rateLimits().get(i);
                route.rateLimit(zone == null ? l : shared.apply(zone, l));
            }
            own.connLimits().forEach(route::connLimit);
            route.limitRate(own.limitRate()).limitRateAfter(own.limitRateAfter());
            if (own.canary() != null) {
                route.canary(own.canary().build(upstreams.apply(own.canary().upstream())));
            }
            if (own.mapMatch() != null) {
                route.match(own.mapMatch(), own.mapValues().toArray(String[]::new));
            }
        }
    }
}
