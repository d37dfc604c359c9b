import { runOp, rnd } from './h';
async function tr(label:string, f: () => Promise<any>) { try { const r = await f(); console.log(label, 'OK', Object.values(r).map((t:any)=>t.dims)); } catch(e:any) { console.log(label, 'ERR', e.message.slice(0,250)); } }
const q=rnd(24);
for (const d of ['ai.onnx.preview','ai.onnx.preview.training']) await tr('LA '+d, () => runOp('LinearAttention',d,[{name:'q',dtype:'float32',dims:[1,3,8],data:q},{name:'k',dtype:'float32',dims:[1,3,8],data:q},{name:'v',dtype:'float32',dims:[1,3,8],data:q}],[['o',3],['s',4]],{q_num_heads:{type:'int',value:2},kv_num_heads:{type:'int',value:2},update_rule:{type:'string',value:'linear'}}));
