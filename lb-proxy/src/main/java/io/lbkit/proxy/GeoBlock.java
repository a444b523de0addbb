package io.lbkit.proxy;

import io.lbkit.core.limit.GeoTable;
import java.util.Objects;
import java.util.Set;

/**
 * Refuses (403) requests whose real client address a {@code geo} table maps to one of
 * {@code values}: seed 004's {@code geo $allowed_country { ... }} with
 * {@code if ($allowed_country = no) { return 403; }}. Set on the proxy or a route; a route with its
 * own replaces the proxy's.
 *
 * @param table  the geo table
 * @param values the table values that are refused
 */
public record GeoBlock(GeoTable table, Set<String> values) {

    public GeoBlock {
        Objects.requireNonNull(table, "table");
        values = Set.copyOf(values);
        if (values.isEmpty()) {
            throw new IllegalArgumentException("geo block values must not be empty");
        }
    }

    /** Refuses the addresses {@code table} maps to any of {@code values}. */
    public static GeoBlock of(GeoTable table, String... values) {
        return new GeoBlock(table, Set.of(values));
    }
}
