package io.lbkit.servlet.proxy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lbkit.core.internal.Repeats;
import io.lbkit.core.limit.CidrRules;
import io.lbkit.core.limit.IpAddresses;
import io.lbkit.proxy.SessionForwarding;
import io.lbkit.proxy.engine.Headers;
import io.lbkit.session.AttributeCodec;
import io.lbkit.session.Session;
import io.lbkit.session.SessionChanges;
import io.lbkit.session.SessionCookies;
import io.lbkit.session.SessionIds;
import io.lbkit.session.SessionLimitException;
import io.lbkit.session.SessionStore;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link ExchangeHook} of {@link SessionForwarding}: loads the client's session before the
 * first attempt, sends it in headers, and applies the backend's merge patch before the client
 * response is committed. Per-request state (the id of the loaded session) lives in a request
 * attribute. Thread-safe; every callback may run on any thread.
 */
final class SessionForwardingHook implements ExchangeHook {

    private static final Logger log = LoggerFactory.getLogger(SessionForwardingHook.class);

    /** Request attribute: the id of the session loaded for this request (absent: none). */
    static final String SESSION_ID_ATTRIBUTE = SessionForwardingHook.class.getName() + ".id";

    /** Strict parsing: no duplicate members, no trailing tokens, exact decimals. */
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(JsonWriteFeature.ESCAPE_NON_ASCII)
            .build();

    /** Compact JSON with only 0x20..0x7E left as is: safe as one header value. */
    private static final ObjectWriter HEADER_WRITER = MAPPER.writer().with(new HeaderSafeEscapes());

    /** Store failures are logged once per 10 s with a count while the store stays down. */
    private final Repeats storeFailures = new Repeats(ProxyFilter.REPEAT_INTERVAL);
    private final SessionForwarding settings;
    private final SessionStore store;
    private final Executor executor;
    private final CidrRules trustedProxies;
    /** Configured names that the proxy's X-Session-* / X-New-Session-* stripping does not cover. */
    private final List<String> extraNames;

    SessionForwardingHook(SessionForwarding settings, CidrRules trustedProxies) {
        this.settings = settings;
        this.store = settings.store();
        this.executor = settings.executor();
        this.trustedProxies = trustedProxies;
        List<String> extra = new ArrayList<>(4);
        for (String n : new String[] {settings.idHeader(), settings.dataHeader(), settings.truncatedHeader(),
                settings.newDataHeader()}) {
            if (!Headers.isSessionHeader(n)) {
                extra.add(n);
            }
        }
        this.extraNames = List.copyOf(extra);
    }

    // =====================================================================================
    // request
    // =====================================================================================

    @Override
    public CompletionStage<?> beforeSend(HttpServletRequest request, HttpFields.Mutable backendHeaders) {
        if (!extraNames.isEmpty()) {
            for (Iterator<HttpField> it = backendHeaders.iterator(); it.hasNext(); ) {
                if (isExtraName(it.next().getName())) {
                    it.remove();
                }
            }
        }
        String id = cookieId(request);
        if (id == null) {
            return null;
        }
        return call(() -> store.loadAsync(id), () -> store.load(id)).handle((found, failure) -> {
            if (failure != null) {
                Throwable cause = unwrap(failure);
                long skipped = storeFailures.admit();
                if (skipped >= 0) {
                    log.warn("session #{}: the session store failed while loading, answering 503: {}{}",
                            SessionIds.logHash(id), cause.toString(), Repeats.note(skipped));
                }
                throw new ExchangeHook.Rejected(503, "session store unavailable", cause);
            }
            if (found.isPresent()) {
                Session s = found.get();
                request.setAttribute(SESSION_ID_ATTRIBUTE, s.id());
                backendHeaders.put(settings.idHeader(), s.id());
                String json = encode(s.attributes());
                if (json.length() <= settings.maxDataBytes()) {
                    backendHeaders.put(settings.dataHeader(), json);
                } else {
                    log.warn("session #{}: data takes {} bytes as JSON, more than maxDataBytes={}; sending {}: true",
                            SessionIds.logHash(s.id()), json.length(), settings.maxDataBytes(),
                            settings.truncatedHeader());
                    backendHeaders.put(settings.truncatedHeader(), "true");
                }
            }
            return null;
        });
    }

    /** The first well-formed value of the session cookie, or null. */
    private String cookieId(HttpServletRequest request) {
        Cookie[] cookies = request.getCookies();
        if (cookies == null) {
            return null;
        }
        String name = settings.cookieName();
        for (Cookie c : cookies) {
            if (name.equals(c.getName()) && SessionIds.isWellFormed(c.getValue())) {
                return c.getValue();
            }
        }
        return null;
    }

    /** The attributes as one compact, ASCII-only JSON object, members sorted by name. */
    static String encode(Map<String, JsonNode> attributes) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.setAll(new TreeMap<>(attributes));
        try {
            return HEADER_WRITER.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode session attributes", e);
        }
    }

    // =====================================================================================
    // response
    // =====================================================================================

    @Override
    public CompletionStage<?> onResponseHeaders(HttpServletRequest request, HttpServletResponse response, int status,
                                                HttpFields backendHeaders) {
        String patchText = null;
        int patchHeaders = 0;
        for (HttpField f : backendHeaders) {
            String name = f.getName();
            if (Headers.sameFieldName(name, settings.newDataHeader())) {
                patchHeaders++;
                patchText = f.getValue();
            }
            if (!extraNames.isEmpty() && isExtraName(name)) {
                response.setHeader(name, null); // copied by the proxy (outside X-Session-*): never to the client
            }
        }
        if (patchHeaders == 0) {
            return null;
        }
        Object sid = request.getAttribute(SESSION_ID_ATTRIBUTE);
        String id = sid instanceof String s ? s : null;
        String tag = id == null ? "(new)" : "#" + SessionIds.logHash(id);
        JsonNode patch = parsePatch(patchHeaders, patchText, tag, request);
        if (patch == null) {
            return null;
        }
        if (id != null) {
            SessionChanges changes = SessionChanges.fromMergePatch(patch);
            return call(() -> store.updateAsync(id, changes), () -> store.update(id, changes)).handle((saved, failure) -> {
                if (failure != null) {
                    logStoreFailure(tag, "saving", unwrap(failure), request);
                } else if (saved.isEmpty()) {
                    log.info("session {}: gone before the backend's {} could be saved (expired or deleted); dropped",
                            tag, settings.newDataHeader());
                }
                return null;
            });
        }
        Map<String, JsonNode> attributes = withoutNulls(patch);
        if (attributes.isEmpty()) {
            return null;
        }
        boolean secure = isSecure(request);
        return call(() -> store.createAsync(attributes), () -> store.create(attributes)).handle((created, failure) -> {
            if (failure != null) {
                logStoreFailure(tag, "creating", unwrap(failure), request);
            } else {
                setCookie(response, created.id(), secure);
                log.debug("session #{} created from the backend's {}", SessionIds.logHash(created.id()),
                        settings.newDataHeader());
            }
            return null;
        });
    }

    /** The patch as a JSON object, or null (logged, without the data) when it cannot be used. */
    private JsonNode parsePatch(int headers, String text, String tag, HttpServletRequest request) {
        String name = settings.newDataHeader();
        if (headers > 1) {
            warnIgnored(tag, request, "sent " + headers + " times");
            return null;
        }
        if (text == null || text.length() > settings.maxPatchBytes()) {
            warnIgnored(tag, request, (text == null ? 0 : text.length()) + " bytes, more than maxPatchBytes="
                    + settings.maxPatchBytes());
            return null;
        }
        JsonNode patch;
        try {
            patch = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            // the exception message quotes the input; log only its kind and position
            warnIgnored(tag, request, "not valid JSON (" + e.getClass().getSimpleName()
                    + (e.getLocation() == null ? "" : " at column " + e.getLocation().getColumnNr()) + ")");
            return null;
        }
        if (patch == null || !patch.isObject()) {
            warnIgnored(tag, request, "a JSON " + (patch == null ? "nothing" : patch.getNodeType())
                    + ", not an object");
            return null;
        }
        try {
            for (Map.Entry<String, JsonNode> e : patch.properties()) {
                AttributeCodec.defaults().encode(e.getKey(), e.getValue()); // what would not read back
            }
        } catch (IllegalArgumentException e) {
            warnIgnored(tag, request, e.getMessage()); // names the attribute and the problem, never the value
            return null;
        }
        log.trace("session {}: applying {}", tag, name);
        return patch;
    }

    private void warnIgnored(String tag, HttpServletRequest request, String why) {
        log.warn("session {}: ignoring the backend's {} for {} {}: {}; the session is unchanged", tag,
                settings.newDataHeader(), request.getMethod(), request.getRequestURI(), why);
    }

    private void logStoreFailure(String tag, String doing, Throwable cause, HttpServletRequest request) {
        if (cause instanceof SessionLimitException) {
            warnIgnored(tag, request, "over the store's limits (" + cause.getMessage() + ")");
        } else {
            long skipped = storeFailures.admit();
            if (skipped >= 0) {
                log.warn("session {}: the session store failed while {} for {} {}; the response goes on unchanged: {}{}",
                        tag, doing, request.getMethod(), request.getRequestURI(), cause.toString(), Repeats.note(skipped));
            }
        }
    }

    /** RFC 7386 MergePatch({}, patch): the patch with null members removed at every depth. */
    static Map<String, JsonNode> withoutNulls(JsonNode patch) {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : patch.properties()) {
            JsonNode v = e.getValue();
            if (!v.isNull()) {
                out.put(e.getKey(), v.isObject() ? objectWithoutNulls(v) : v);
            }
        }
        return out;
    }

    private static ObjectNode objectWithoutNulls(JsonNode o) {
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        r.setAll(withoutNulls(o));
        return r;
    }

    private boolean isSecure(HttpServletRequest request) {
        return switch (settings.secure()) {
            case ALWAYS -> true;
            case NEVER -> settings.sameSite() == SessionCookies.SameSite.NONE;
            case AUTO -> {
                if (request.isSecure() || settings.sameSite() == SessionCookies.SameSite.NONE) {
                    yield true;
                }
                InetAddress peer = IpAddresses.peerAddress(request.getRemoteAddr());
                if (peer == null || !trustedProxies.isAllowed(peer.getAddress())) {
                    yield false;
                }
                String xfp = request.getHeader("X-Forwarded-Proto");
                if (xfp == null) {
                    yield false;
                }
                int comma = xfp.indexOf(',');
                yield "https".equalsIgnoreCase((comma < 0 ? xfp : xfp.substring(0, comma)).trim());
            }
        };
    }

    /** Adds the session cookie, replacing one of the same name the backend may have set. */
    private void setCookie(HttpServletResponse response, String id, boolean secure) {
        String name = settings.cookieName();
        String cookie = SessionCookies.setCookie(name, id, settings.cookiePath(), null, -1, settings.sameSite(), secure);
        Collection<String> existing = response.getHeaders("Set-Cookie");
        String prefix = name + "=";
        if (existing.stream().anyMatch(h -> h.startsWith(prefix))) {
            List<String> keep = new ArrayList<>(existing.size());
            for (String h : existing) {
                if (!h.startsWith(prefix)) {
                    keep.add(h);
                }
            }
            response.setHeader("Set-Cookie", null);
            for (String h : keep) {
                response.addHeader("Set-Cookie", h);
            }
        }
        response.addHeader("Set-Cookie", cookie);
    }

    // =====================================================================================
    // helpers
    // =====================================================================================

    /** The store's async call, or the blocking one on the configured executor; never throws. */
    private <T> CompletableFuture<T> call(Supplier<CompletionStage<T>> async, Supplier<T> blocking) {
        try {
            if (executor != null) {
                return CompletableFuture.supplyAsync(blocking, executor);
            }
            return async.get().toCompletableFuture();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }

    private boolean isExtraName(String name) {
        for (int i = 0; i < extraNames.size(); i++) {
            if (Headers.sameFieldName(name, extraNames.get(i))) {
                return true;
            }
        }
        return false;
    }

    /** JSON's standard escapes plus DEL; {@link JsonWriteFeature#ESCAPE_NON_ASCII} handles the rest. */
    private static final class HeaderSafeEscapes extends CharacterEscapes {
        private static final long serialVersionUID = 1L;
        private static final int[] ESCAPES;

        static {
            int[] e = CharacterEscapes.standardAsciiEscapesForJSON();
            e[0x7f] = CharacterEscapes.ESCAPE_STANDARD;
            ESCAPES = e;
        }

        @Override
        public int[] getEscapeCodesForAscii() {
            return ESCAPES;
        }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            return null;
        }
    }
}
