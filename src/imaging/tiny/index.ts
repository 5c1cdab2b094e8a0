// The default `tiny` guest: builder (Debian packages -> kernel + initramfs + root disk) and its registration.
export { buildTinyImage, TINY_CMDLINE, type TinyImage, type TinyBuildOptions } from './build.js';
export { registerTinyImage, bootstrapTinyImage, tinyCacheDir, TINY_MARKER, type TinyRegistration } from './register.js';
export { FINISHED_MARK, TINY_USER, ROOT_LABEL } from './guest-files.js';
export { writeCpio, readCpio, type CpioEntry, type CpioMember } from './cpio.js';
