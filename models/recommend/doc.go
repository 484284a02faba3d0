// Package recommend learns item recommendations from implicit feedback (purchases, clicks):
// popularity, item-item neighbours (cosine, Jaccard or lift, with a minimum support and the
// top N neighbours per item), implicit ALS (Hu, Koren, Volinsky, solved exactly per row by
// Cholesky) and BPR (stochastic gradient, one seeded stream). It is plain Go, without Beam;
// pipelines/recommend-train wraps it.
//
// Train builds a Model from Interactions; the same interactions (in any order) and Params
// give the same model. Model.Recommend returns a user's top N, never an item they own; users
// and items the model cannot score fall back on popularity, first within the categories of
// what the user owns.
//
// Evaluation is by time: SplitByTime holds out each user's last interaction (every row at
// their latest timestamp, so one order's lines are one interaction), users with fewer than 5
// interactions only train, and Evaluate scores hit@10, NDCG@10, recall@10 and catalogue
// coverage with training items excluded. TrainAndEvaluate runs popularity beside each
// candidate on the same split and trains the first candidate on everything:
//
//	m, rep, err := recommend.TrainAndEvaluate(interactions, []recommend.Params{{Algo: recommend.AlgoALS}}, 0)
//	man, files, err := m.Artifact("recs", rep, modelstore.TrainingData{Input: glob})
//	version, err := modelstore.Publish(ctx, root, "recs", man, files)
//
// A published model (kind "recommend": model.json, report.json) reads back with FromArtifact,
// e.g. in a modelstore.Refresher.
package recommend
