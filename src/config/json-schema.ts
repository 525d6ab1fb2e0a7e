/** The editor schema (`evenkeel schema`): draft-7 JSON Schema of the config as written in YAML. */
import { z } from 'zod';
import { configSchema } from './schema.js';

/** JSON Schema draft-7 for yaml-language-server and other editors. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://evenkeel.dev/schema/config.json', title: 'evenkeel config', description: 'evenkeel load balancer configuration (see docs/config.md)' };
}
