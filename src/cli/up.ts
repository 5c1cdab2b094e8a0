import { ensureDir } from '../util/fs.js';
import { loadConfig, type ConfigFlags } from '../config.js';
import { createController } from '../app/index.js';
import { writeCredentialFiles, readSavedPassword } from './credentials-files.js';
import { serviceApis } from '../api/registry.js';

/** `gureum up`: the all-in-one cloud on this machine. Returns when the process should exit. */
export async function up(flags: ConfigFlags): Promise<void> {
  const config = loadConfig(flags);
  ensureDir(config.dataDir, 0o700);
  const controller = await createController(config);
  const { bootstrap } = controller;
  const password = bootstrap.generatedPassword ?? readSavedPassword(config.dataDir);
  let files: { cloudsYaml: string; openrc: string } | undefined;
  // Rewrite the files every start so a new --listen address is reflected; the password is only ever generated once.
  if (password) files = writeCredentialFiles(config, password);

  await controller.server.listen({ host: config.server.listen.host, port: config.server.listen.port });

  const lines = [
    `Gureum is up at ${config.server.publicUrl}  (data: ${config.dataDir}, database: ${controller.store.dialect})`,
    ...serviceApis.map((s) => `  ${s.type.padEnd(10)} ${config.server.publicUrl}${s.endpointPath}`),
  ];
  if (bootstrap.generatedPassword)
    lines.push('First start: created domain "Default", project and user "admin" with a generated password.');
  if (files) {
    lines.push(`Credentials (mode 0600): ${files.cloudsYaml} and ${files.openrc}`);
    lines.push(`  export OS_CLIENT_CONFIG_FILE=${files.cloudsYaml}; openstack --os-cloud gureum token issue`);
    lines.push(`  or: . ${files.openrc}; openstack token issue`);
  } else {
    lines.push(
      `The admin password is not on record in ${config.dataDir}; admin-openrc.sh was removed. Reset it with a new ` +
        `data dir.`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`Received ${signal}, stopping.\n`);
      controller.close().finally(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
