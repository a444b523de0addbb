/**
 * Session stores: the {@link io.lbkit.session.SessionStore} SPI and an in-memory store on
 * Caffeine, with server-generated ids, idle and absolute expiry, atomic attribute-level saves,
 * id rotation and events. Attribute values are JSON (Jackson, no polymorphic default typing).
 * The Redis store is in the module {@code io.lbkit:lb-session-redis}, package
 * {@code io.lbkit.session.redis}.
 */
package io.lbkit.session;
