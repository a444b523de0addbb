package io.lbkit.session.redis;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

/**
 * The Lua scripts of {@link RedisSessionStore}: every operation is one script on one key, so
 * data, metadata and TTL change together and each operation is one round trip. The hash fields
 * they read and write are {@link SessionHash}'s; their arguments are laid out by
 * {@link SaveArgs} and {@link CreateArgs}, their replies read by {@link ScriptReply}. Run through
 * EVALSHA with a fallback to EVAL (which also loads the script) when a server does not know it
 * (after a restart or a failover to a node that never saw it), on Redisson's asynchronous API:
 * no method here waits for a reply.
 */
final class RedisScripts {

    private static final String NOW = """
            local function now_ms()
              local t = redis.call('TIME')
              return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            end
            """;

    /** HSET / HDEL of many fields in slices (Lua's unpack takes at most a few thousand values). */
    private static final String BULK = """
            local function bulk(cmd, key, t)
              local i = 1
              while i <= #t do
                local j = math.min(i + 999, #t)
                redis.call(cmd, key, unpack(t, i, j))
                i = j + 1
              end
            end
            """;

    /** ttl from an idle interval and the absolute expiry text (false when none); 0 or less means expired. */
    private static final String TTL_FROM = """
            local function ttl_from(idle, x, now)
              local ttl = idle
              if x then
                local rem = tonumber(x) - now
                if rem < ttl then ttl = rem end
              end
              return ttl
            end
            """;

    /**
     * KEYS[1] the session's key; ARGV[1] {@code '1'} to only touch it (answers 1, or 0 when it is
     * gone). Otherwise answers {} when absent or expired, the raw HGETALL when metadata is missing
     * (the caller reports it as broken), else HGETALL after sliding the access time and the TTL.
     */
    static final String LOAD = NOW + TTL_FROM + """
            local key = KEYS[1]
            local touch_only = ARGV[1] == '1'
            local m = redis.call('HMGET', key, '#i', '#x')
            local idle = tonumber(m[1] or '')
            if not idle then
              if touch_only then return 0 end
              return redis.call('HGETALL', key)
            end
            local now = now_ms()
            local ttl = ttl_from(idle, m[2], now)
            if ttl <= 0 then
              redis.call('DEL', key)
              if touch_only then return 0 end
              return {}
            end
            redis.call('HSET', key, '#a', tostring(now))
            redis.call('PEXPIRE', key, ttl)
            if touch_only then return 1 end
            return redis.call('HGETALL', key)
            """;

    /**
     * KEYS[1] the session's key; ARGV as {@link SaveArgs} lays it out. Answers (see
     * {@link ScriptReply.Status}) {@code {'ok', hgetall}} (read back) or {@code {'ok', version}},
     * {@code {'gone'}}, {@code {'conflict', version}}, {@code {'merge', {field, current text...}}}
     * or {@code {'limit', 'count'|'bytes', value}}. Reading back costs more than the rest: Redis
     * converts every field of the HGETALL reply to Lua and back.
     */
    static final String SAVE = NOW + TTL_FROM + BULK + """
            local key = KEYS[1]
            local token, expected_version, new_idle = ARGV[1], ARGV[2], ARGV[3]
            local max_attributes, max_bytes = tonumber(ARGV[4]), tonumber(ARGV[5])
            local channel, message = ARGV[6], ARGV[7]
            local write_count, read_back = tonumber(ARGV[8]), ARGV[9] == '1'
            -- field write i (from 0): kind, field, value, expected base text, name size
            local function field_write(i)
              local b = 10 + i * 5
              return ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], tonumber(ARGV[b + 4])
            end
            local m = redis.call('HMGET', key, '#t', '#i', '#x', '#v', '#n', '#s')
            if m[1] == token then
              if read_back then return {'ok', redis.call('HGETALL', key)} end
              return {'ok', m[4] or '0'}
            end
            local idle = tonumber(m[2] or '')
            if not idle then return {'gone'} end
            local now = now_ms()
            if ttl_from(idle, m[3], now) <= 0 then
              redis.call('DEL', key)
              return {'gone'}
            end
            local version = tonumber(m[4] or '0')
            if expected_version ~= '' and tonumber(expected_version) ~= version then
              return {'conflict', tostring(version)}
            end
            local stale = {}
            for i = 0, write_count - 1 do
              local kind, field, _, base = field_write(i)
              if kind == 'M' or kind == 'P' then
                local cur = redis.call('HGET', key, field) or ''
                if kind == 'P' or cur ~= base then
                  stale[#stale + 1] = field
                  stale[#stale + 1] = cur
                end
              end
            end
            if #stale > 0 then return {'merge', stale} end
            local count = tonumber(m[5] or '0')
            local size = tonumber(m[6] or '0')
            for i = 0, write_count - 1 do
              local kind, field, value, _, name_size = field_write(i)
              -- a stored attribute is JSON text, never empty: length 0 means absent
              local len = redis.call('HSTRLEN', key, field)
              if len > 0 then
                count = count - 1
                size = size - name_size - len
              end
              if kind ~= 'R' then
                count = count + 1
                size = size + name_size + #value
              end
            end
            if count > max_attributes then return {'limit', 'count', tostring(count)} end
            local bytes = 2 + size
            if count > 1 then bytes = bytes + count - 1 end
            if bytes > max_bytes then return {'limit', 'bytes', tostring(bytes)} end
            if write_count > 0 then version = version + 1 end
            local dels = {}
            local sets = {}
            for i = 0, write_count - 1 do
              local kind, field, value = field_write(i)
              if kind == 'R' then
                dels[#dels + 1] = field
              else
                sets[#sets + 1] = field
                sets[#sets + 1] = value
              end
            end
            bulk('HDEL', key, dels)
            sets[#sets + 1] = '#v'
            sets[#sets + 1] = tostring(version)
            sets[#sets + 1] = '#n'
            sets[#sets + 1] = tostring(count)
            sets[#sets + 1] = '#s'
            sets[#sets + 1] = tostring(size)
            sets[#sets + 1] = '#t'
            sets[#sets + 1] = token
            sets[#sets + 1] = '#a'
            sets[#sets + 1] = tostring(now)
            if new_idle ~= '' then
              sets[#sets + 1] = '#i'
              sets[#sets + 1] = new_idle
              idle = tonumber(new_idle)
            end
            bulk('HSET', key, sets)
            local ttl = ttl_from(idle, m[3], now)
            if ttl <= 0 then
              redis.call('DEL', key)
              if message ~= '' then redis.call('PUBLISH', channel, message) end
              return {'gone'}
            end
            redis.call('PEXPIRE', key, ttl)
            if message ~= '' then redis.call('PUBLISH', channel, message) end
            if read_back then return {'ok', redis.call('HGETALL', key)} end
            return {'ok', tostring(version)}
            """;

    /**
     * KEYS[1] the new session's key; ARGV as {@link CreateArgs} lays it out. Answers
     * {@code {'ok', hgetall}}, {@code {'exists'}} (id collision: nothing written) or
     * {@code {'gone'}} (already past its absolute expiry: nothing kept).
     */
    static final String CREATE = NOW + TTL_FROM + """
            local key = KEYS[1]
            local token, channel, message, absolute_lifetime = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
            local first_field = 5
            if redis.call('EXISTS', key) == 1 then
              if redis.call('HGET', key, '#t') == token then
                return {'ok', redis.call('HGETALL', key)}
              end
              return {'exists'}
            end
            local now = now_ms()
            for i = first_field, #ARGV, 2 do
              redis.call('HSET', key, ARGV[i], ARGV[i + 1])
            end
            redis.call('HSET', key, '#a', tostring(now), '#t', token)
            if redis.call('HEXISTS', key, '#c') == 0 then redis.call('HSET', key, '#c', tostring(now)) end
            if absolute_lifetime ~= '' and redis.call('HEXISTS', key, '#x') == 0 then
              redis.call('HSET', key, '#x', tostring(now + tonumber(absolute_lifetime)))
            end
            local m = redis.call('HMGET', key, '#i', '#x')
            local ttl = ttl_from(tonumber(m[1]), m[2], now)
            if ttl <= 0 then
              redis.call('DEL', key)
              return {'gone'}
            end
            redis.call('PEXPIRE', key, ttl)
            if message ~= '' then redis.call('PUBLISH', channel, message) end
            return {'ok', redis.call('HGETALL', key)}
            """;

    /** KEYS[1] the session's key; ARGV[1] the event channel, ARGV[2] the event ('': none). Answers 1 when it existed. */
    static final String DELETE = """
            local channel, message = ARGV[1], ARGV[2]
            local n = redis.call('DEL', KEYS[1])
            if n == 1 and message ~= '' then redis.call('PUBLISH', channel, message) end
            return n
            """;

    private final RScript script;
    private final String loadSha;
    private final String saveSha;
    private final String createSha;
    private final String deleteSha;

    RedisScripts(RedissonClient client) {
        this.script = client.getScript(StringCodec.INSTANCE);
        this.loadSha = sha1(LOAD);
        this.saveSha = sha1(SAVE);
        this.createSha = sha1(CREATE);
        this.deleteSha = sha1(DELETE);
    }

    /** {@link #LOAD}: the hash after sliding it, empty when gone. */
    CompletionStage<List<Object>> load(String key) {
        return run(key, LOAD, loadSha, RScript.ReturnType.LIST, "0");
    }

    /** {@link #LOAD} as a touch: 1 when the session was slid, 0 when it is gone. */
    CompletionStage<Long> touch(String key) {
        return run(key, LOAD, loadSha, RScript.ReturnType.LONG, "1");
    }

    CompletionStage<ScriptReply> save(String key, SaveArgs args) {
        return this.<Object>run(key, SAVE, saveSha, RScript.ReturnType.LIST, args.argv())
                .thenApply(reply -> ScriptReply.of("save", reply));
    }

    CompletionStage<ScriptReply> create(String key, CreateArgs args) {
        return this.<Object>run(key, CREATE, createSha, RScript.ReturnType.LIST, args.argv())
                .thenApply(reply -> ScriptReply.of("create", reply));
    }

    /** {@link #DELETE}: 1 when the session existed. */
    CompletionStage<Long> delete(String key, String channel, String message) {
        return run(key, DELETE, deleteSha, RScript.ReturnType.LONG, channel, message);
    }

    /**
     * EVALSHA on the node that holds {@code key}, then EVAL when that node does not know the
     * script; neither waits for the reply.
     */
    private <R> CompletionStage<R> run(String key, String source, String sha, RScript.ReturnType type,
                                       Object... args) {
        return run(script, key, source, sha, type, args);
    }

    /**
     * EVALSHA of {@code source} (whose SHA-1 is {@code sha}) with KEYS[1] {@code key} on the node
     * that holds it, then EVAL when that node does not know the script; neither waits for the reply.
     */
    static <R> CompletionStage<R> run(RScript script, String key, String source, String sha, RScript.ReturnType type,
                                      Object... args) {
        List<Object> keys = Collections.singletonList(key);
        return script.<R>evalShaAsync(key, RScript.Mode.READ_WRITE, sha, type, keys, args)
                .exceptionallyCompose(e -> isNoScript(e)
                        ? script.<R>evalAsync(key, RScript.Mode.READ_WRITE, source, type, keys, args)
                        : CompletableFuture.failedFuture(e));
    }

    private static boolean isNoScript(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && m.contains("NOSCRIPT")) {
                return true;
            }
        }
        return false;
    }

    static String sha1(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 missing from this JVM", e);
        }
    }
}
