// Package features says what parsed web hits mean.
//
//   - URL paths: Templates matches a path against templates such as /items/{category}/{item}
//     (first listed wins, a segment trie, no regular expression per request); SplitPath,
//     QueryValue and QueryParams read the query string; Ext and IsStatic tell static files
//     from dynamic pages.
//   - User agents: ParseUserAgent gives browser family and version, OS family, device class
//     (desktop, mobile, tablet, bot, other, unknown) and whether the agent is a bot.
//   - Referrers: ReferrerHost.
//   - GoAccess: GoAccessRequestKey, GoAccessVisitorKey and GoAccessIsStatic count as GoAccess
//     1.7 does, for reports that must agree with it (see goaccess.go for the definitions).
//
// Everything is a plain function or type that knows nothing of Beam and allocates nothing per
// hit; Enrich is the Beam wrapper that applies them all to a PCollection<clean.Hit>:
//
//	hits, dead := clean.ParseAccessLog(s, "combined", recs)
//	pages := features.Enrich(s, hits, "/items/{category}/{item}", "/search", "/static/{file...}")
package features
