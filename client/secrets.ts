/** Credentials in VS Code SecretStorage, under the names config files and URLs use (`secret: kafka-prod`). */
import * as vscode from 'vscode';
import type { KnownSecrets } from './model/redact';

/** SecretStorage cannot list its keys, so the names (never the values) are kept in globalState. */
const NAMES_KEY = 'clean.secretNames';

export class SecretVault {
  constructor(
    private readonly extension: vscode.ExtensionContext,
    private readonly known: KnownSecrets,
  ) {}

  names(): string[] {
    return [...(this.extension.globalState.get<string[]>(NAMES_KEY) ?? [])].sort();
  }

  async get(name: string): Promise<string | undefined> {
    const value = await this.extension.secrets.get(name);
    if (value !== undefined) this.known.remember(name, value);
    return value;
  }

  async set(name: string, value: string): Promise<void> {
    await this.extension.secrets.store(name, value);
    this.known.remember(name, value);
    const names = new Set(this.names());
    names.add(name);
    await this.extension.globalState.update(NAMES_KEY, [...names]);
  }

  async clear(name: string): Promise<void> {
    await this.extension.secrets.delete(name);
    this.known.forget(name);
    await this.extension.globalState.update(NAMES_KEY, this.names().filter((n) => n !== name));
  }
}

