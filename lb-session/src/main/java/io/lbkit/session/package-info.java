/**
 * Session stores: the {@link io.lbkit.session.SessionStore} SPI, an in-memory store on Caffeine
 * and a Redis store on Redisson, with server-generated ids, idle and absolute expiry, atomic
 * attribute-level saves, id rotation and events. Attribute values are JSON (Jackson, no
 * polymorphic default typing).
 */
package io.lbkit.session;
