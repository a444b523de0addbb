/**
 * lbkit session module. The public API of this module arrives with its own issue; until then it only
 * builds, so that the module graph of DESIGN.md holds from the first commit.
 */
package io.lbkit.session;
