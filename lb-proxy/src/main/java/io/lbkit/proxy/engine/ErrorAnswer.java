package io.lbkit.proxy.engine;

import java.nio.charset.StandardCharsets;

/**
 * The proxy's own answers, the same in every engine: a status, its reason phrase and a body of one
 * short line ({@code 502 Bad Gateway\n}, {@code text/plain;charset=utf-8}).
 */
public final class ErrorAnswer {

    /** The content type of an error body. */
    public static final String CONTENT_TYPE = "text/plain;charset=utf-8";

    private ErrorAnswer() {
    }

    /** The body of an error answer: the status, its reason phrase and a line feed, in ASCII. */
    public static byte[] body(int status) {
        return (status + " " + reason(status) + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Whether the answer closes the client connection: the request itself was malformed or
     * refused before its body was read (400, 408, 413, 414, 431, 501), so the bytes that follow
     * may not be the next request.
     */
    public static boolean closesConnection(int status) {
        return status == 400 || status == 408 || status == 413 || status == 414 || status == 431 || status == 501;
    }

    /** The standard reason phrase of a status the proxy answers with ({@code Error} for others). */
    public static String reason(int status) {
        return switch (status) {
            case 400 -> "Bad Request";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 408 -> "Request Timeout";
            case 413 -> "Content Too Large";
            case 414 -> "URI Too Long";
            case 429 -> "Too Many Requests";
            case 431 -> "Request Header Fields Too Large";
            case 499 -> "Client Closed Request";
            case 500 -> "Internal Server Error";
            case 501 -> "Not Implemented";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            case 504 -> "Gateway Timeout";
            default -> "Error";
        };
    }
}
