/** The photo formats uploads take (portraits of jobs and sessions), told by their first bytes. */
export const IMAGE_TYPES: { ext: string; test: (b: Uint8Array) => boolean }[] = [
  { ext: 'png', test: (b) => b.length > 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 },
  { ext: 'jpg', test: (b) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
];
