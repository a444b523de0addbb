package io.lbkit.session.redis;

import java.util.List;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

/**
 * The Lua scripts of {@link RedisSessionStore}: every operation is one script on one key, so
 * data, metadata and TTL change together and each operation is one round trip. Run through
 * EVALSHA with a fallback to EVAL (which also loads the script) when a server does not know it
 * (after a restart or a failover to a node that never saw it).
 *
 * <p>Hash fields: {@code #c} creation ms, {@code #a} last access ms, {@code #i} max inactive
 * ms, {@code #v} version, {@code #x} absolute expiry ms (absent: none), {@code #n} attribute
 * count, {@code #s} attribute size accumulator, {@code #t} token of the last write (makes a
 * retried script idempotent), {@code a:<name>} one attribute as JSON text. Times are the Redis
 * server's ({@code TIME}), so instances with skewed clocks agree.
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
     * KEYS[1] session key; ARGV[1] '1' to only touch (returns 1/0). Returns {} when absent or
     * expired, the raw HGETALL when metadata is missing (the caller reports it as broken), else
     * HGETALL after sliding the TTL.
     */
    static final String LOAD = NOW + TTL_FROM + """
            local key = KEYS[1]
            local m = redis.call('HMGET', key, '#i', '#x')
            local idle = tonumber(m[1] or '')
            if not idle then
              if ARGV[1] == '1' then return 0 end
              return redis.call('HGETALL', key)
            end
            local now = now_ms()
            local ttl = ttl_from(idle, m[2], now)
            if ttl <= 0 then
              redis.call('DEL', key)
              if ARGV[1] == '1' then return 0 end
              return {}
            end
            redis.call('HSET', key, '#a', tostring(now))
            redis.call('PEXPIRE', key, ttl)
            if ARGV[1] == '1' then return 1 end
            return redis.call('HGETALL', key)
            """;

    /**
     * KEYS[1] session key. ARGV: 1 token, 2 expected version or '', 3 new max inactive ms or '',
     * 4 max attributes, 5 max bytes, 6 channel, 7 message ('' = none), 8 op count, 9 '1' to read
     * the session back, then 5 per op: kind (S set, R remove, M merge with expected old text, P
     * merge probe), field, value, expected old text ('' = absent), name cost (JSON-escaped name
     * bytes + 3). Returns {'ok', hgetall} (read back) or {'ok', version} | {'gone'} |
     * {'conflict', version} | {'merge', {field, current...}} | {'limit', 'count'|'bytes', value}.
     * Reading back costs more than the rest: Redis converts every field of the HGETALL reply to
     * Lua and back.
     */
    static final String SAVE = NOW + TTL_FROM + BULK + """
            local key = KEYS[1]
            local m = redis.call('HMGET', key, '#t', '#i', '#x', '#v', '#n', '#s')
            if m[1] == ARGV[1] then
              if ARGV[9] == '1' then return {'ok', redis.call('HGETALL', key)} end
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
            if ARGV[2] ~= '' and tonumber(ARGV[2]) ~= version then
              return {'conflict', tostring(version)}
            end
            local n = tonumber(ARGV[8])
            local stale = {}
            for i = 0, n - 1 do
              local b = 10 + i * 5
              local kind = ARGV[b]
              if kind == 'M' or kind == 'P' then
                local cur = redis.call('HGET', key, ARGV[b + 1]) or ''
                if kind == 'P' or cur ~= ARGV[b + 3] then
                  stale[#stale + 1] = ARGV[b + 1]
                  stale[#stale + 1] = cur
                end
              end
            end
            if #stale > 0 then return {'merge', stale} end
            local count = tonumber(m[5] or '0')
            local size = tonumber(m[6] or '0')
            for i = 0, n - 1 do
              local b = 10 + i * 5
              local field = ARGV[b + 1]
              local cost = tonumber(ARGV[b + 4])
              -- a stored attribute is JSON text, never empty: length 0 means absent
              local len = redis.call('HSTRLEN', key, field)
              if len > 0 then
                count = count - 1
                size = size - cost - len
              end
              if ARGV[b] ~= 'R' then
                count = count + 1
                size = size + cost + #ARGV[b + 2]
              end
            end
            if count > tonumber(ARGV[4]) then return {'limit', 'count', tostring(count)} end
            local bytes = 2 + size
            if count > 1 then bytes = bytes + count - 1 end
            if bytes > tonumber(ARGV[5]) then return {'limit', 'bytes', tostring(bytes)} end
            if n > 0 then version = version + 1 end
            local dels = {}
            local sets = {}
            for i = 0, n - 1 do
              local b = 10 + i * 5
              if ARGV[b] == 'R' then
                dels[#dels + 1] = ARGV[b + 1]
              else
                sets[#sets + 1] = ARGV[b + 1]
                sets[#sets + 1] = ARGV[b + 2]
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
            sets[#sets + 1] = ARGV[1]
            sets[#sets + 1] = '#a'
            sets[#sets + 1] = tostring(now)
            if ARGV[3] ~= '' then
              sets[#sets + 1] = '#i'
              sets[#sets + 1] = ARGV[3]
              idle = tonumber(ARGV[3])
            end
            bulk('HSET', key, sets)
            local ttl = ttl_from(idle, m[3], now)
            if ttl <= 0 then
              redis.call('DEL', key)
              if ARGV[7] ~= '' then redis.call('PUBLISH', ARGV[6], ARGV[7]) end
              return {'gone'}
            end
            redis.call('PEXPIRE', key, ttl)
            if ARGV[7] ~= '' then redis.call('PUBLISH', ARGV[6], ARGV[7]) end
            if ARGV[9] == '1' then return {'ok', redis.call('HGETALL', key)} end
            return {'ok', tostring(version)}
            """;

    /**
     * KEYS[1] new session key. ARGV: 1 token, 2 channel, 3 message ('' = none), 4 absolute
     * lifetime ms used when no '#x' field is given ('' = none), then field/value pairs (all
     * metadata but '#a', '#t' and, for a new session, '#c'). Returns {'ok', hgetall} |
     * {'exists'} (id collision: nothing written) | {'gone'} (already past its absolute expiry).
     */
    static final String CREATE = NOW + TTL_FROM + """
            local key = KEYS[1]
            if redis.call('EXISTS', key) == 1 then
              if redis.call('HGET', key, '#t') == ARGV[1] then
                return {'ok', redis.call('HGETALL', key)}
              end
              return {'exists'}
            end
            local now = now_ms()
            for i = 5, #ARGV, 2 do
              redis.call('HSET', key, ARGV[i], ARGV[i + 1])
            end
            redis.call('HSET', key, '#a', tostring(now), '#t', ARGV[1])
            if redis.call('HEXISTS', key, '#c') == 0 then redis.call('HSET', key, '#c', tostring(now)) end
            if ARGV[4] ~= '' and redis.call('HEXISTS', key, '#x') == 0 then
              redis.call('HSET', key, '#x', tostring(now + tonumber(ARGV[4])))
            end
            local m = redis.call('HMGET', key, '#i', '#x')
            local ttl = ttl_from(tonumber(m[1]), m[2], now)
            if ttl <= 0 then
              redis.call('DEL', key)
              return {'gone'}
            end
            redis.call('PEXPIRE', key, ttl)
            if ARGV[3] ~= '' then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
            return {'ok', redis.call('HGETALL', key)}
            """;

    /** KEYS[1] session key; ARGV 1 channel, 2 message. Returns 1 when it existed. */
    static final String DELETE = """
            local n = redis.call('DEL', KEYS[1])
            if n == 1 and ARGV[2] ~= '' then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
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

    <R> R load(String key, List<Object> keys, Object... args) {
        return run(key, LOAD, loadSha, RScript.ReturnType.LIST, keys, args);
    }

    <R> R touch(String key, List<Object> keys) {
        return run(key, LOAD, loadSha, RScript.ReturnType.LONG, keys, "1");
    }

    java.util.concurrent.CompletionStage<Long> touchAsync(String key, List<Object> keys) {
        return script.<Long>evalShaAsync(key, RScript.Mode.READ_WRITE, loadSha, RScript.ReturnType.LONG, keys, "1")
                .exceptionallyCompose(e -> isNoScript(e)
                        ? script.<Long>evalAsync(key, RScript.Mode.READ_WRITE, LOAD, RScript.ReturnType.LONG, keys, "1")
                        : java.util.concurrent.CompletableFuture.failedFuture(e));
    }

    <R> R save(String key, List<Object> keys, Object... args) {
        return run(key, SAVE, saveSha, RScript.ReturnType.LIST, keys, args);
    }

    <R> R create(String key, List<Object> keys, Object... args) {
        return run(key, CREATE, createSha, RScript.ReturnType.LIST, keys, args);
    }

    <R> R delete(String key, List<Object> keys, Object... args) {
        return run(key, DELETE, deleteSha, RScript.ReturnType.LONG, keys, args);
    }

    private <R> R run(String key, String source, String sha, RScript.ReturnType type, List<Object> keys,
                      Object... args) {
        try {
            return script.evalSha(key, RScript.Mode.READ_WRITE, sha, type, keys, args);
        } catch (RuntimeException e) {
            if (!isNoScript(e)) {
                throw e;
            }
            return script.eval(key, RScript.Mode.READ_WRITE, source, type, keys, args);
        }
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
            byte[] d = java.security.MessageDigest.getInstance("SHA-1")
                    .digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            StringBuilder sb = new StringBuilder(40);
            for (byte b : d) {
                sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
            }
            return sb.toString();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 missing from this JVM", e);
        }
    }
}
