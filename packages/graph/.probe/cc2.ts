import { runOp, rnd } from './h';
const B=1,C=4,L=3,K=4;
const x=rnd(B*C*L), w=rnd(C*K);
const base:any[]=[{name:'x',dtype:'float32',dims:[B,C,L],data:x},{name:'w',dtype:'float32',dims:[C,1,K],data:w}];
async function tr(label:string, f: () => Promise<any>) { try { const r = await f(); console.log(label, 'OK', Object.values(r).map((t:any)=>t.dims)); } catch(e:any) { console.log(label, 'ERR', e.message.slice(0,250)); } }
await tr('dilation=2', () => runOp('CausalConvWithState','com.microsoft',base,[['o',3],['s',3]],{dilation:{type:'int',value:2}}));
await tr('channels_last', () => runOp('CausalConvWithState','com.microsoft',base,[['o',3],['s',3]],{channels_last:{type:'int',value:1}}));
await tr('state_window=2', () => runOp('CausalConvWithState','com.microsoft',base,[['o',3],['s',3]],{state_window:{type:'int',value:2}}));
await tr('5 inputs', () => runOp('CausalConvWithState','com.microsoft',[...base,null,null,{name:'c',dtype:'int32',dims:[1],data:new Int32Array([1])}],[['o',3],['s',3]],{}));
await tr('activation=gelu', () => runOp('CausalConvWithState','com.microsoft',base,[['o',3],['s',3]],{activation:{type:'string',value:'gelu'}}));
for (const opset of [23,24,25,26]) await tr('onnx-domain CCWS opset '+opset, () => runOp('CausalConvWithState','',base,[['o',3],['s',3]],{}, opset));
const q=rnd(1*3*2*4);
for (const opset of [24,25,26]) await tr('onnx-domain LinearAttention opset '+opset, () => runOp('LinearAttention','',[{name:'q',dtype:'float32',dims:[1,3,8],data:q},{name:'k',dtype:'float32',dims:[1,3,8],data:q},{name:'v',dtype:'float32',dims:[1,3,8],data:q}],[['o',3],['s',4]],{q_num_heads:{type:'int',value:2},kv_num_heads:{type:'int',value:2},update_rule:{type:'string',value:'linear'}}, opset));
await tr('LinearAttentionGate', () => runOp('LinearAttentionGate','com.microsoft',[{name:'a',dtype:'float32',dims:[1,3,2],data:rnd(6)},{name:'dtb',dtype:'float32',dims:[2],data:rnd(2)},{name:'ds',dtype:'float32',dims:[2],data:rnd(2)}],[['d',3]],{}));
await tr('GatedRMSNorm', () => runOp('GatedRMSNorm','com.microsoft',[{name:'x',dtype:'float32',dims:[1,3,8],data:rnd(24)},{name:'sc',dtype:'float32',dims:[4],data:rnd(4)},{name:'z',dtype:'float32',dims:[1,3,8],data:rnd(24)}],[['y',3]],{epsilon:{type:'float',value:1e-5}}));
await tr('LA chunk_size attr', () => runOp('LinearAttention','com.microsoft',[{name:'q',dtype:'float32',dims:[1,3,8],data:q},{name:'k',dtype:'float32',dims:[1,3,8],data:q},{name:'v',dtype:'float32',dims:[1,3,8],data:q}],[['o',3],['s',4]],{q_num_heads:{type:'int',value:2},kv_num_heads:{type:'int',value:2},update_rule:{type:'string',value:'linear'},chunk_size:{type:'int',value:2}}));
await tr('LA state_window', () => runOp('LinearAttention','com.microsoft',[{name:'q',dtype:'float32',dims:[1,3,8],data:q},{name:'k',dtype:'float32',dims:[1,3,8],data:q},{name:'v',dtype:'float32',dims:[1,3,8],data:q}],[['o',3],['s',4]],{q_num_heads:{type:'int',value:2},kv_num_heads:{type:'int',value:2},update_rule:{type:'string',value:'linear'},state_window:{type:'int',value:2}}));
