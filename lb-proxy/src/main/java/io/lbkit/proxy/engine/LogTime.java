package io.lbkit.proxy.engine;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * nginx's {@code $time_local} ({@code 07/Dec/2026:19:53:33 +0000}) and {@code $time_iso8601}
 * ({@code 2026-12-07T19:53:33+00:00}) in the JVM's time zone, formatted once per second: the last
 * second's strings are kept in one immutable holder that any thread reads without a lock.
 */
final class LogTime {

    private static final DateTimeFormatter LOCAL = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT);
    private static final DateTimeFormatter ISO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssxxx", Locale.ROOT);
    private static final ZoneId ZONE = ZoneId.systemDefault();

    private record Second(long second, String local, String iso) {
    }

    private static volatile Second cached = of(0);

    private LogTime() {
    }

    static String local(long wallMillis) {
        return second(wallMillis).local;
    }

    static String iso8601(long wallMillis) {
        return second(wallMillis).iso;
    }

    private static Second second(long wallMillis) {
        long s = Math.floorDiv(wallMillis, 1000);
        Second c = cached;
        if (c.second != s) {
            c = of(s);
            cached = c; // a race only formats the same second twice
        }
        return c;
    }

    private static Second of(long second) {
        ZonedDateTime t = Instant.ofEpochSecond(second).atZone(ZONE);
        return new Second(second, LOCAL.format(t), ISO.format(t));
    }
}
