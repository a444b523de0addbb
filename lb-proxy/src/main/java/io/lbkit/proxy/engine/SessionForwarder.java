package io.lbkit.proxy.engine;

import io.lbkit.core.internal.Repeats;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.SessionForwarding;
import io.lbkit.session.SessionCookies;
import io.lbkit.session.SessionStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * The rule of {@link SessionForwarding}, built once per proxy: an engine asks it for a
 * {@link ForwardedSession} per exchange, which loads the client's session before the first
 * attempt and applies the backend's merge patch before the client response's head is written.
 *
 * <p>What an engine does with it:
 * <ol>
 *   <li>{@link #start} when the exchange begins; {@link ForwardedSession#load}: null means go on
 *       at once; else wait (without blocking a thread) for the stage. When it fails,
 *       {@link #isStoreFailure} tells the store's failure (answer 503 with
 *       {@code Retry-After: }{@value #RETRY_AFTER}, no backend contacted) from a bug (502). When it
 *       succeeds, {@link ForwardedSession#addRequestFields} writes the session into the backend
 *       request, on the exchange's own thread.</li>
 *   <li>While copying a backend response's fields, skip those {@link #hidesResponseField} names
 *       (besides what {@code ResponseHeaderRules.copied} drops).</li>
 *   <li>{@link ForwardedSession#save} with the backend response's fields: null means write the
 *       head now; else hold the head (and stop reading the backend) until the stage completes,
 *       however it completes, then {@link ForwardedSession#addResponseFields} and write.</li>
 * </ol>
 * The request fields a client may not send (the {@code X-Session-*} family and the configured
 * names) are dropped by {@link RequestHeaderRules}. Thread-safe.
 */
public final class SessionForwarder {

    /** The {@code Retry-After} (seconds) of the 503 that answers a request whose session could not be loaded. */
    public static final String RETRY_AFTER = "1";

    /** Store failures are logged once per 10 s with a count while the store stays down. */
    private static final Duration REPEAT_INTERVAL = Duration.ofSeconds(10);

    final SessionForwarding settings;
    final SessionStore store;
    private final Executor executor;
    final Repeats storeFailures = new Repeats(REPEAT_INTERVAL);
    /** Configured names that {@link Headers#isSessionHeader} does not cover. */
    private final List<String> extraNames;

    /** The rule of {@code settings}. */
    public SessionForwarder(SessionForwarding settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.store = settings.store();
        this.executor = settings.executor();
        this.extraNames = extraNames(settings);
    }

    /** The rule of {@code config}'s {@link ProxyConfig#sessionForwarding()}, or null when it has none. */
    public static SessionForwarder of(ProxyConfig config) {
        return config.sessionForwarding() == null ? null : new SessionForwarder(config.sessionForwarding());
    }

    /** The settings this rule applies. */
    public SessionForwarding settings() {
        return settings;
    }

    /**
     * The session state of one exchange of {@code request}, which came from {@code origin} (its
     * {@link ClientOrigin#secure()} decides the {@code Secure} attribute of a new session's cookie).
     */
    public ForwardedSession start(ClientRequest request, ClientOrigin origin) {
        return new ForwardedSession(this, request, secureCookie(origin.secure()));
    }

    /**
     * Whether a backend response field is session forwarding's own and never reaches the client:
     * a configured name outside the {@code X-Session-*} / {@code X-New-Session-*} family, in any
     * case and with {@code _} for {@code -}. (The family itself is dropped by
     * {@link ResponseHeaderRules#copied}.)
     */
    public boolean hidesResponseField(CharSequence name) {
        return isExtraName(extraNames, name);
    }

    /**
     * Whether {@code failure}, the failure of a {@link ForwardedSession#load} stage, is the
     * store's (already logged): the answer is 503 with {@code Retry-After: }{@value #RETRY_AFTER}.
     * Anything else is a fault of the proxy: 502.
     */
    public static boolean isStoreFailure(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof StoreUnavailable) {
                return true;
            }
        }
        return false;
    }

    // =====================================================================================
    // shared with ForwardedSession and RequestHeaderRules
    // =====================================================================================

    /** The configured names outside the session family: request fields the client may not send. */
    static List<String> extraNames(SessionForwarding settings) {
        List<String> extra = new ArrayList<>(4);
        for (String n : new String[] {settings.idHeader(), settings.dataHeader(), settings.truncatedHeader(),
                settings.newDataHeader()}) {
            if (!Headers.isSessionHeader(n)) {
                extra.add(n);
            }
        }
        return List.copyOf(extra);
    }

    static boolean isExtraName(List<String> names, CharSequence name) {
        for (int i = 0; i < names.size(); i++) {
            if (Headers.sameFieldName(name, names.get(i))) {
                return true;
            }
        }
        return false;
    }

    private boolean secureCookie(boolean clientOnHttps) {
        return switch (settings.secure()) {
            case ALWAYS -> true;
            case NEVER -> settings.sameSite() == SessionCookies.SameSite.NONE;
            case AUTO -> clientOnHttps || settings.sameSite() == SessionCookies.SameSite.NONE;
        };
    }

    /** The store's async call, or the blocking one on the configured executor; never throws. */
    <T> CompletableFuture<T> call(Supplier<CompletionStage<T>> async, Supplier<T> blocking) {
        try {
            if (executor != null) {
                return CompletableFuture.supplyAsync(blocking, executor);
            }
            return async.get().toCompletableFuture();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }

    /** Fails a load stage: the store failed and the failure is logged; the answer is 503. */
    static final class StoreUnavailable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StoreUnavailable(Throwable cause) {
            super("session store unavailable", cause);
        }
    }
}
