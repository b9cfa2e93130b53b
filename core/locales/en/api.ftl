# The API's errors as a partner app shows them to a person. The codes (BAD_USER_INPUT, …) stay
# English for programs; these words follow the caller's language. An English caller also gets
# the request's own detail, which stays English.

api-title-unauthenticated = Authentication required
api-title-forbidden = Not allowed
api-title-not-found = Not found
api-title-bad-user-input = Invalid request
api-title-conflict = Conflict
api-title-limit-exceeded = Limit exceeded
api-title-rate-limited = Too many requests
api-title-unavailable = Temporarily unavailable
api-title-internal = Internal error

api-error-unauthenticated = Please sign in again: this request did not carry a valid sign-in.
api-error-forbidden = You are not allowed to do this.
api-error-not-found = This could not be found. It may have been removed, or you may not be allowed to see it.
api-error-bad-user-input = Something in the request cannot be used. Please check what was entered.
api-error-bad-user-input-field = Please check “{ $field }”: what was entered there cannot be used.
api-error-conflict = This has changed since it was last shown. Please reload it and try again.
api-error-limit-exceeded = This request is too large. Please ask for less at a time.
api-error-rate-limited = Too many requests in a short time. Please wait a moment and try again.
api-error-unavailable = The service cannot answer right now. Please try again in a moment.
api-error-internal = Something went wrong on our side. Please try again; if it keeps happening, contact the support program.
