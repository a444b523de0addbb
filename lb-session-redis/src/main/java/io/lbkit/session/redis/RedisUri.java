package io.lbkit.session.redis;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * A standalone server's URI, {@code redis://[[user]:password@]host:port[/db]} (or
 * {@code rediss://} for TLS), split into the parts Redisson takes. The port defaults to 6379 and
 * the database to 0; user and password are percent-decoded. {@link #toString} never shows the
 * password.
 *
 * @param address  {@code scheme://host:port}, an IPv6 host in brackets
 * @param user     the ACL user, or {@code null}
 * @param password the password, or {@code null}
 * @param database the database number
 */
record RedisUri(String address, String user, String password, int database) {

    static final int DEFAULT_PORT = 6379;

    /** @throws IllegalArgumentException naming the part of the URI that is wrong */
    static RedisUri parse(String text) {
        URI u;
        try {
            u = URI.create(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("uri must be redis://[[user]:password@]host:port[/db], got a "
                    + "value that does not parse");
        }
        String scheme = u.getScheme();
        if (!"redis".equals(scheme) && !"rediss".equals(scheme)) {
            throw new IllegalArgumentException("uri scheme must be redis or rediss, got " + scheme);
        }
        if (u.getHost() == null) {
            throw new IllegalArgumentException("uri must name a host: redis://host:port");
        }
        int port = u.getPort() < 0 ? DEFAULT_PORT : u.getPort();
        String user = null;
        String password = null;
        if (u.getRawUserInfo() != null) {
            String info = u.getRawUserInfo();
            int colon = info.indexOf(':');
            if (colon < 0) {
                password = decode(info);
            } else {
                user = colon == 0 ? null : decode(info.substring(0, colon));
                password = decode(info.substring(colon + 1));
            }
        }
        String host = u.getHost().contains(":") && !u.getHost().startsWith("[") ? "[" + u.getHost() + "]" : u.getHost();
        return new RedisUri(scheme + "://" + host + ":" + port, user, password, database(u.getPath()));
    }

    private static int database(String path) {
        if (path == null || path.length() <= 1) {
            return 0;
        }
        int db;
        try {
            db = Integer.parseInt(path.substring(1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("uri database must be a number, got '" + path.substring(1) + "'");
        }
        if (db < 0) {
            throw new IllegalArgumentException("uri database must be >= 0, got " + db);
        }
        return db;
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "RedisUri[" + address + ", db " + database + (password == null ? "" : ", password set") + "]";
    }
}
