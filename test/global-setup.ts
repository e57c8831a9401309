/** Before any test file: build the kiosk page the server serves (esbuild, about a second). */
import { buildKiosk } from '../kiosk-client/build.js';

export default async function setup(): Promise<void> {
  await buildKiosk();
}
