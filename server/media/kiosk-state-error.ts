/**
 * A kiosk request out of order (before join, twice, after the kiosk left, without an offer) or one
 * its browser cannot satisfy: the kiosk's mistake, answered 'bad-request' with this message.
 */
export class KioskStateError extends Error {
  override readonly name = 'KioskStateError';
}
