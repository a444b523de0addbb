package io.lbkit.netty;

import io.lbkit.proxy.engine.ClientRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The rules' view of a parsed client request: no copies beyond the decoded path and the list of names. */
final class NettyClientRequest implements ClientRequest {

    private final ParsedRequest request;
    private final String rawPath;
    private final String path;
    private final String query;
    private final String remoteAddress;
    private final String serverName;
    private List<String> names;

    NettyClientRequest(ParsedRequest request, String rawPath, String path, String query, String remoteAddress,
                       String serverName) {
        this.request = request;
        this.rawPath = rawPath;
        this.path = path;
        this.query = query;
        this.remoteAddress = remoteAddress;
        this.serverName = serverName;
    }

    ParsedRequest request() {
        return request;
    }

    @Override
    public String method() {
        return request.method().name();
    }

    @Override
    public String protocol() {
        return request.protocolVersion().text();
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public String rawPath() {
        return rawPath;
    }

    @Override
    public String query() {
        return query;
    }

    @Override
    public String serverName() {
        return serverName;
    }

    @Override
    public String remoteAddress() {
        return remoteAddress;
    }

    @Override
    public String header(String name) {
        return request.header(name);
    }

    @Override
    public Iterable<String> headers(String name) {
        return request.all(name);
    }

    @Override
    public void forEachField(FieldVisitor visitor) {
        request.forEachField(visitor);
    }

    @Override
    public Iterable<String> headerNames() {
        List<String> n = names;
        if (n == null) {
            ParsedRequest p = request;
            n = new ArrayList<>(p.fieldCount());
            for (int i = 0; i < p.fieldCount(); i++) {
                String name = new String(p.bytes(), p.nameStart(i), p.nameEnd(i) - p.nameStart(i),
                        StandardCharsets.ISO_8859_1);
                if (!containsIgnoreCase(n, name)) {
                    n.add(name);
                }
            }
            names = n;
        }
        return n;
    }

    private static boolean containsIgnoreCase(List<String> names, String name) {
        for (String s : names) {
            if (s.equalsIgnoreCase(name)) {
                return true;
            }
        }
        return false;
    }







    /**
     * The text a servlet container would give for a byte string of the request line (one char per
     * byte): the bytes read as UTF-8, so a hash key or a query value is the same in both engines.
     * ASCII, by far the usual case, is returned as it is.
     */
    static String utf8(String byteString) {
        if (byteString == null) {
            return null;
        }
        for (int i = 0; i < byteString.length(); i++) {
            if (byteString.charAt(i) > 0x7f) {
                return new String(byteString.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
            }
        }
        return byteString;
    }
}
