package io.lbkit.netty;

import io.netty.util.AsciiString;

/**
 * The names of the fields the engine writes itself, in their usual spelling (Netty's constants
 * are lower case; the servlet engine and most servers write these): HTTP/1.1 names are
 * case-insensitive, so this is for the reader of a trace.
 */
final class FieldNames {

    static final AsciiString CONTENT_LENGTH = AsciiString.cached("Content-Length");
    static final AsciiString CONTENT_TYPE = AsciiString.cached("Content-Type");
    static final AsciiString TRANSFER_ENCODING = AsciiString.cached("Transfer-Encoding");
    static final AsciiString TRAILER = AsciiString.cached("Trailer");
    static final AsciiString HOST = AsciiString.cached("Host");
    static final AsciiString VIA = AsciiString.cached("Via");
    static final AsciiString SET_COOKIE = AsciiString.cached("Set-Cookie");
    static final AsciiString CONNECTION = AsciiString.cached("Connection");
    static final AsciiString ALLOW = AsciiString.cached("Allow");

    private FieldNames() {
    }
}
