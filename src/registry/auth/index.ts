import type { IncomingMessage } from "node:http";

/** Who made a request. `anonymous` when no credentials were given (and the authenticator allows it). */
export interface Identity {
  subject: string;
  anonymous: boolean;
  /** Free-form claims (token auth puts scopes/groups here later). */
  claims?: Record<string, unknown>;
}

export type Action = "pull" | "push" | "delete" | "catalog";

/**
 * Authentication: turns a request into an identity. Returns undefined when the request carries
 * no (or bad) credentials and must be challenged; `challenge()` gives the WWW-Authenticate value.
 * Token auth later implements the same interface (Bearer challenge with realm/service/scope).
 */
export interface Authenticator {
  authenticate(req: IncomingMessage): Promise<Identity | undefined>;
  challenge(repo: string | undefined, actions: Action[]): string;
}

/**
 * Authorization: may `identity` do `actions` on `repo` (undefined repo = registry-wide, e.g.
 * the catalog)? RBAC later implements this interface.
 */
export interface Authorizer {
  authorize(identity: Identity, repo: string | undefined, actions: Action[]): Promise<boolean>;
}

export const ANONYMOUS: Identity = Object.freeze({ subject: "", anonymous: true });

/** No authentication configured: everyone is anonymous and allowed. */
export class AllowAll implements Authenticator, Authorizer {
  async authenticate(): Promise<Identity> {
    return ANONYMOUS;
  }
  challenge(): string {
    return "";
  }
  async authorize(): Promise<boolean> {
    return true;
  }
}

/** Any authenticated (non-anonymous) identity may do everything: the basic-auth policy. */
export class AuthenticatedAllowed implements Authorizer {
  async authorize(identity: Identity): Promise<boolean> {
    return !identity.anonymous;
  }
}

export { HtpasswdAuthenticator } from "./htpasswd.js";
