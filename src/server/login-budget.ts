/** What the budget needs of a connection that is logging in. */
export interface PendingLogin {
  /** The client's address, so that one address flooding the budget pushes out its own connections first. */
  readonly address: string;
  /** Ends the connection: it had to make room for a newer one. */
  evict(): void;
}

/**
 * Connections that have not finished authenticating, counted apart from the sessions: a login in
 * progress never holds a session slot. When the budget is full, a new connection makes room by
 * ending the oldest login of the address with the most logins in progress, so clients that stall
 * mid-login or sockets that never speak cannot lock anyone out: they are pushed out by newcomers
 * (and time out on their own).
 */
export class LoginBudget {
  private readonly byAddress = new Map<string, PendingLogin[]>();
  private count = 0;

  constructor(readonly max: number) {}

  get pending(): number {
    return this.count;
  }

  /** Counts a new connection, first ending another one if the budget is full. */
  begin(login: PendingLogin): void {
    if (this.count >= this.max) this.evictOne();
    const list = this.byAddress.get(login.address);
    if (list) list.push(login);
    else this.byAddress.set(login.address, [login]);
    this.count++;
  }

  /** The connection authenticated or closed; a no-op if it was not counted (or was evicted). */
  end(login: PendingLogin): void {
    const list = this.byAddress.get(login.address);
    const i = list?.indexOf(login) ?? -1;
    if (!list || i < 0) return;
    list.splice(i, 1);
    if (!list.length) this.byAddress.delete(login.address);
    this.count--;
  }

  private evictOne(): void {
    let victims: PendingLogin[] | null = null;
    for (const list of this.byAddress.values()) if (!victims || list.length > victims.length) victims = list;
    const oldest = victims?.[0];
    if (!oldest) return;
    this.end(oldest);
    oldest.evict();
  }
}
