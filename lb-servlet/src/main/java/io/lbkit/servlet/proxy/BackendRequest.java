package io.lbkit.servlet.proxy;

import io.lbkit.proxy.engine.RequestTarget;
import java.net.URI;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Origin;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.transport.HttpConversation;
import org.eclipse.jetty.client.transport.HttpRequest;

/**
 * A request to an endpoint whose target is sent exactly as the client sent it.
 *
 * <p>{@link Request#path(String)} parses the target as a {@link URI}: {@code //a/b} becomes the
 * path {@code /b} with the authority {@code a}, a malformed escape in the query makes the whole
 * target a path that the sender then fails to decode, and characters are re-encoded. This request
 * keeps the path and the query as the {@link RequestTarget byte strings} they arrived as; the
 * HTTP/1.1 sender writes them as ISO-8859-1, one byte per character, so every byte reaches the
 * backend unchanged.
 */
final class BackendRequest extends HttpRequest {

    private final String rawPath;
    private final String rawQuery;

    /**
     * @param target the {@link RequestTarget} byte string, with a path already checked by
     *               {@link RequestTarget#invalidPath}
     */
    BackendRequest(HttpClient client, String host, int port, String target) {
        super(client, new HttpConversation(), URI.create(new Origin("http", host, port).asString()));
        this.rawPath = RequestTarget.path(target);
        this.rawQuery = RequestTarget.query(target);
    }

    @Override
    public String getPath() {
        return rawPath;
    }

    @Override
    public String getQuery() {
        return rawQuery;
    }

    @Override
    public Request path(String path) {
        throw new UnsupportedOperationException("the target of a proxied request is the client's");
    }
}
