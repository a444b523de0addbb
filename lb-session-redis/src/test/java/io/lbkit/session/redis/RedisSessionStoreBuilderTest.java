package io.lbkit.session.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Builder validation: no server needed, none contacted. */
class RedisSessionStoreBuilderTest {

    private static String message(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void exactlyOneSourceIsRequired() {
        assertEquals("exactly one of client, uri, sentinel or cluster must be set, got 0",
                message(() -> RedisSessionStore.builder().build()));
        assertEquals("exactly one of client, uri, sentinel or cluster must be set, got 2",
                message(() -> RedisSessionStore.builder().uri("redis://h:1").cluster(List.of("h:2")).build()));
    }

    @Test
    void badSettingsAreNamed() {
        assertEquals("commandTimeout must be positive, got PT0S", message(() ->
                RedisSessionStore.builder().uri("redis://h:1").commandTimeout(Duration.ZERO).build()));
        assertEquals("retryAttempts must be >= 0, got -1", message(() ->
                RedisSessionStore.builder().uri("redis://h:1").retryAttempts(-1).build()));
        assertEquals("nearCacheMaxSize must be >= 1, got 0", message(() ->
                RedisSessionStore.builder().uri("redis://h:1").nearCacheMaxSize(0).build()));
        assertEquals("keyPrefix must be non-empty without braces, got 'a{b'", message(() ->
                RedisSessionStore.builder().uri("redis://h:1").keyPrefix("a{b").build()));
        assertEquals("cluster needs at least one node address, got none", message(() ->
                RedisSessionStore.builder().cluster(List.of()).build()));
        assertEquals("sentinel master name must be non-empty, got ''", message(() ->
                RedisSessionStore.builder().sentinel("", List.of("h:1")).build()));
        assertEquals("database must be 0 in Cluster, got 3", message(() ->
                RedisSessionStore.builder().cluster(List.of("h:1")).database(3).build()));
        assertEquals("uri scheme must be redis or rediss, got http", message(() ->
                RedisSessionStore.builder().uri("http://h:1").build()));
        assertEquals("uri database must be a number, got 'x'", message(() ->
                RedisSessionStore.builder().uri("redis://h:1/x").build()));
    }

    @Test
    void luaScriptsAreStableText() {
        assertEquals(40, RedisScripts.sha1(RedisScripts.SAVE).length());
        assertTrue(RedisScripts.SAVE.contains("PEXPIRE") && RedisScripts.CREATE.contains("PEXPIRE")
                && RedisScripts.LOAD.contains("PEXPIRE"), "every writing script sets the TTL");
    }

    /** The scripts read their ARGV where the argument records put it. */
    @Test
    void scriptsReadTheArgumentsWhereTheRecordsLayThemOut() {
        assertTrue(RedisScripts.SAVE.contains("local b = " + (SaveArgs.HEADER + 1) + " + i * "
                + SaveArgs.FieldWrite.WIDTH + "\n"), "field writes follow the save's header");
        assertTrue(RedisScripts.SAVE.contains("local write_count, read_back = tonumber(ARGV[" + (SaveArgs.HEADER - 1)
                + "]), ARGV[" + SaveArgs.HEADER + "] == '1'"), "the header ends with the write count and read-back");
        assertTrue(RedisScripts.CREATE.contains("local first_field = " + (CreateArgs.HEADER + 1) + "\n"),
                "fields follow the create's header");
        Object[] argv = new SaveArgs("t", java.util.OptionalLong.of(7), java.time.Duration.ofSeconds(2), 3, 64, "ch",
                "m", true, List.of(SaveArgs.FieldWrite.merge("a:x", "{\"k\":1}", "{}", 4))).argv();
        assertEquals(List.of("t", "7", "2000", "3", "64", "ch", "m", "1", "1", "M", "a:x", "{\"k\":1}", "{}", "4"),
                List.of(argv));
        assertEquals(SaveArgs.HEADER + SaveArgs.FieldWrite.WIDTH, argv.length);
    }
}
