/**
 * Test helpers of the QEMU driver: the tiny test guest and a serial console
 * reader. Not part of the main entry; import `@virtkit/driver-qemu/test-support`.
 */
export { buildTestGuest, type BuildTestGuestOptions, type TestGuest } from './test-guest/build.js';
export { TEST_GUEST_PROMPT, TEST_GUEST_READY } from './test-guest/init-script.js';
export { SerialConsole } from './test-guest/serial-console.js';
export { writeCpio, type CpioEntry } from './test-guest/cpio.js';
export { testGuestDomainXml, killQemusMatching, tearDownEmbed, type TestGuestXmlOptions } from './test-guest/domain-xml.js';
